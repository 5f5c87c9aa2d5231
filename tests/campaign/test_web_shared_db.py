"""Two servers on one PostgreSQL database (a real server the tests start, see conftest.py)
show one state: answers, disagreements, and a single proposal at a time."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient

from batchbald.campaign.web import WebSettings, create_app
from batchbald.campaign.web.testing import make_campaign

BASE = "http://127.0.0.1:8000"


def test_two_servers_on_one_postgresql_database_show_one_state(postgres_server, tmp_path):
    project = make_campaign(tmp_path, db_url=postgres_server.new_database())
    first, second = create_app(WebSettings(project)), create_app(WebSettings(project))
    with TestClient(first, base_url=BASE) as ana, TestClient(second, base_url=BASE) as ben:
        ana.post("/annotator", data={"annotator": "ana"})
        ben.post("/annotator", data={"annotator": "ben"})
        item = first.state.campaign.current_round().item_ids[0]
        assert ana.post("/labels", data={"item_id": item, "label": "one"}).status_code == 200
        state = ben.get("/api/state").json()
        assert state["team_done"] == 1 and state["items"][0]["others"] == {"ana": "one"}
        assert ben.post("/labels", data={"item_id": item, "label": "two"}).status_code == 200
        rows = ana.get("/api/disagreements").json()["disagreements"]
        assert rows == [{"item_id": item, "labels": {"ana": "one", "ben": "two"}}]

        assert ana.post("/api/propose", json={}).status_code == 202
        deadline = time.monotonic() + 60
        while first.state.campaign.propose_state().state != "running":  # the lock is taken
            if not first.state.runner.running:
                break
            assert time.monotonic() < deadline
            time.sleep(0.01)
        refused = ben.post("/api/propose", json={})
        if first.state.runner.running:  # still running on the first server: refused here
            assert refused.status_code == 409 and "propose" in refused.json()["error"]
        first.state.runner.join(timeout=300)
        second.state.runner.join(timeout=300)
        assert first.state.runner.error is None and second.state.runner.error is None
        assert ben.get("/api/state").json()["round"] == 2
        assert first.state.campaign.current_round().number == 2
