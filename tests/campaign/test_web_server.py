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


def send_all(server, requests, acknowledged, stop):
    for payload in requests:
        if stop.is_set():
            return
        try:
            if post(server, payload) == 200:
                acknowledged.append(payload["request_id"])
        except OSError:  # the server died under us
            return


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
    acknowledged: list[str] = []
    for _round in range(3):  # each run resends from the start: replays of acknowledged ones
        server = LiveServer(project).start()
        stop = threading.Event()
        sender = threading.Thread(target=send_all, args=(server, requests, acknowledged, stop))
        sender.start()
        time.sleep(rng.uniform(0.05, 0.6))
        server.kill()
        stop.set()
        sender.join()
        by_request = {e.request_id for e in history(project)}
        assert set(acknowledged) <= by_request  # nothing acknowledged is lost
    assert 0 < len(set(acknowledged)) < len(requests)  # the kills came mid-stream
    with LiveServer(project) as server:
        assert all(post(server, payload) == 200 for payload in requests)  # resend everything
    events = history(project)
    assert sorted(e.request_id for e in events) == sorted(p["request_id"] for p in requests)
    assert {(e.item_id, e.annotator, e.label) for e in events} == {
        (p["item_id"], p["annotator"], p["label"]) for p in requests
    }
