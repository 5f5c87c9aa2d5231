"""The real server (``serve`` in a child process, uvicorn on a free localhost port), without a
browser: raw traversal requests that no client library would normalise, and ``kill -9`` at
random moments while labels are being written: nothing acknowledged is lost, and resending
every request afterwards records each exactly once."""

from __future__ import annotations

import http.client
import json
import random
import shutil
import threading
import time

import pytest

pytest.importorskip("starlette")

from batchbald.campaign import Campaign
from batchbald.campaign.web.testing import LiveServer, make_campaign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A campaign (5-item first round proposed) beside ``secret.txt``, made once per module."""
    return make_campaign(tmp_path_factory.mktemp("web_server"))


@pytest.fixture
def project(template, tmp_path):
    """A fresh copy of the template campaign."""
    return shutil.copytree(template, tmp_path / "project")


def raw_get(server, target):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{server.port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_raw_traversal_requests_are_404s(project, template):
    secret = template.parent / "secret.txt"
    targets = [
        "/items/../secret.txt",
        "/items/../../secret.txt",
        "/items/../../../../../../etc/passwd",
        "/items/./img_000.png",
        "/items/%2e%2e/secret.txt",
        "/items/.%2e/%2e./secret.txt",
        f"/items/{secret}",
        f"/items/{'/..' * 12}{secret}",
        "/static/../app.py",
        "/static/../../../project/campaign.db",
        "/items/img_000.png/../../secret.txt",
    ]
    with LiveServer(project) as server:
        assert raw_get(server, "/items/img_000.png")[0] in (200, 404)  # served only if picked
        for target in targets:
            status, body = raw_get(server, target)
            assert status in (400, 404), target
            assert b"TOP SECRET" not in body and b"root:" not in body, target


def history(project):
    campaign = Campaign.open(project)
    try:
        return campaign.history()
    finally:
        campaign.close()


def post(server, payload):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        body = json.dumps(payload)
        connection.request("POST", "/api/labels", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


class Sender(threading.Thread):
    """Posts ``requests`` in order, noting each acknowledged one; ``reached`` is set after
    ``kill_after`` acknowledgements, ``finished`` when every request was answered."""

    def __init__(self, server, requests, kill_after):
        super().__init__()
        self.server, self.requests, self.kill_after = server, requests, kill_after
        self.acknowledged: list[str] = []
        self.reached, self.finished = threading.Event(), False

    def run(self):
        try:
            for payload in self.requests:
                if post(self.server, payload) == 200:
                    self.acknowledged.append(payload["request_id"])
                if len(self.acknowledged) >= self.kill_after:
                    self.reached.set()
            self.finished = True
        except OSError:  # the server died under us
            pass
        finally:
            self.reached.set()


def test_kill_9_at_random_moments_loses_nothing_and_duplicates_nothing(project):
    campaign = Campaign.open(project)
    items = campaign.current_round().item_ids
    campaign.close()
    classes = ("zero", "one", "two")
    requests = [
        {"item_id": item, "label": classes[(i + a) % 3], "annotator": f"annotator{a}",
         "request_id": f"req-{a}-{i}"}
        for a in range(6) for i, item in enumerate(items)
    ]  # fmt: skip
    rng = random.Random(21)
    for _round in range(3):  # each run sends all, in a new order: replays of earlier ones too
        server = LiveServer(project).start()
        sender = Sender(server, rng.sample(requests, len(requests)), rng.randint(1, 15))
        sender.start()
        sender.reached.wait(timeout=120)
        time.sleep(rng.uniform(0.0, 0.01))  # land inside a request now and then
        server.kill()
        sender.join()
        assert not sender.finished  # the kill came mid-stream
        by_request = {e.request_id for e in history(project)}
        assert set(sender.acknowledged) <= by_request  # nothing acknowledged is lost
    with LiveServer(project) as server:
        assert all(post(server, payload) == 200 for payload in requests)  # resend everything
    events = history(project)
    assert sorted(e.request_id for e in events) == sorted(p["request_id"] for p in requests)
    assert {(e.item_id, e.annotator, e.label) for e in events} == {
        (p["item_id"], p["annotator"], p["label"]) for p in requests
    }
