"""The labelling page over HTTP (Starlette's test client, a real SQLite campaign): pages,
answers, idempotency, two annotators, and every bad input as a 4xx with its message."""

from __future__ import annotations

import re
import shutil

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient

from batchbald.campaign.web import WebSettings, create_app
from batchbald.campaign.web.testing import make_campaign

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A campaign with its first round proposed, made once per module."""
    return make_campaign(tmp_path_factory.mktemp("web_http"))


@pytest.fixture
def app(template, tmp_path):
    """The app on a fresh copy of the template campaign."""
    shutil.copytree(template, tmp_path / "project")
    made = create_app(WebSettings(tmp_path / "project"))
    yield made
    made.state.runner.join(timeout=60)


@pytest.fixture
def client(app):
    """A client that has entered the name "ana"."""
    with TestClient(app, base_url=BASE) as made:
        assert made.post("/annotator", data={"annotator": "ana"}).status_code == 200
        yield made


def ids(app):
    return app.state.campaign.current_round().item_ids


def post_label(client, item, label, request_id=None, **extra):
    data = {"item_id": item, "label": label, **extra}
    if request_id:
        data["request_id"] = request_id
    return client.post("/labels", data=data, follow_redirects=False)


def test_first_visit_asks_for_the_name(app):
    with TestClient(app, base_url=BASE) as fresh:
        response = fresh.get("/", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/annotator")
        page = fresh.get("/annotator").text
        assert 'name="annotator"' in page and "autofocus" in page


@pytest.mark.parametrize(
    "name", ["", "a b", "../etc", "x" * 65, "<script>alert(1)</script>", "an\na", "-ana"]
)
def test_a_bad_annotator_name_is_refused_on_the_page(app, name):
    with TestClient(app, base_url=BASE) as fresh:
        response = fresh.post("/annotator", data={"annotator": name})
        assert response.status_code == 422
        assert "annotator must" in response.text and "<script>alert" not in response.text
        assert "batchbald_annotator" not in response.headers.get("set-cookie", "")
        api = fresh.post("/annotator", json={"annotator": name})
        assert api.status_code == 422 and api.json()["error"].startswith("annotator must")


def test_the_page_shows_the_round_in_pick_order_with_keyed_buttons(app, client):
    page = client.get("/").text
    batch = page[page.index('id="batch"') : page.index("</nav>")]
    shown = re.findall(r'<img src="/items/([^"]+)"', batch)
    assert shown == ids(app)
    assert re.findall(r'data-key="(\d)"', page) == ["1", "2", "3"]
    assert "Pick <strong>1</strong> of 5" in page and "ana" in page


def test_a_label_is_recorded_and_the_page_moves_to_the_next_item(app, client):
    first, second = ids(app)[:2]
    response = post_label(client, first, "one", "r-1")
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert app.state.campaign.labels()[first] == "one"
    page = client.get("/").text
    assert f'data-item="{second}"' in page and "<strong>1</strong> of 5" in page


def test_the_same_request_twice_is_recorded_once(app, client):
    item = ids(app)[0]
    for _ in range(3):  # a double click, then a retry of the same form
        assert post_label(client, item, "two", "same-request").status_code == 303
    api = client.post(
        "/api/labels",
        json={"item_id": item, "label": "two", "request_id": "same-request", "annotator": "ana"},
    )
    assert api.status_code == 200 and api.json()["event"]["request_id"] == "same-request"
    events = [e for e in app.state.campaign.history() if e.item_id == item]
    assert [(e.kind, e.label) for e in events] == [("label", "two")]


@pytest.mark.parametrize("label", ["zebra", "ZERO", "", "1"])
def test_a_label_not_in_the_classes_is_a_422_with_the_message_on_the_page(app, client, label):
    response = post_label(client, ids(app)[0], label, "r-bad")
    assert response.status_code == 422
    assert "label must be one of zero, one, two" in response.text
    assert 'id="error"' in response.text and 'id="label-form"' in response.text  # the page, again
    api = client.post(
        "/api/labels", json={"item_id": ids(app)[0], "label": label, "annotator": "ana"}
    )
    assert api.status_code == 422 and api.json()["error_type"] == "InvalidLabelError"
    assert app.state.campaign.labels() == {}


def test_an_item_outside_the_pool_or_the_round_is_a_404(app, client):
    response = post_label(client, "no_such.png", "one")
    assert response.status_code == 404 and "item in the pool" in response.text
    picked = set(ids(app))
    other = next(p.item_id for p in app.state.campaign.source().scan() if p.item_id not in picked)
    response = client.post(
        "/api/labels", json={"item_id": other, "label": "one", "annotator": "ana"}
    )
    assert response.status_code == 404 and "current round" in response.json()["error"]


def test_the_api_names_a_bad_or_missing_annotator(app):
    item = ids(app)[0]
    with TestClient(app, base_url=BASE) as anonymous:
        response = anonymous.post("/api/labels", json={"item_id": item, "label": "one"})
        assert response.status_code == 422 and response.json()["error"].startswith("annotator must")
        response = anonymous.post(
            "/api/labels", json={"item_id": item, "label": "one", "annotator": "a b"}
        )
        assert response.status_code == 422 and "annotator" in response.json()["error"]


def test_malformed_requests_are_4xx_with_a_message(app, client):
    assert client.post("/api/labels", json={"label": "one", "annotator": "ana"}).json() == {
        "error": "item_id must be given; got no 'item_id' field",
        "status": 400,
    }
    response = client.post(
        "/api/labels", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and "invalid JSON" in response.json()["error"]
    assert client.post("/api/labels", json=["a"]).status_code == 400
    response = client.post("/api/labels", content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415 and "Content-Type" in response.json()["error"]
    response = client.post("/api/labels", json={"item_id": "x" * 70_000, "label": "one"})
    assert response.status_code == 413
    assert client.get("/labels").status_code == 405
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "path must name a page" in missing.text


def test_a_request_id_reused_for_another_answer_is_refused(app, client):
    first, second = ids(app)[:2]
    assert post_label(client, first, "one", "r-7").status_code == 303
    response = post_label(client, second, "one", "r-7")
    assert response.status_code == 422 and "request_id" in response.text


def test_skip_and_undo(app, client):
    first, second = ids(app)[:2]
    response = client.post(
        "/skips", data={"item_id": first, "request_id": "s-1"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert post_label(client, second, "two", "l-1").status_code == 303
    page = client.get("/").text
    assert "skipped" in page and "<strong>2</strong> of 5" in page
    response = client.post("/undo", data={"request_id": "u-1"}, follow_redirects=False)
    assert response.headers["location"] == f"/?item={second}"
    assert second not in app.state.campaign.labels()
    assert client.post("/api/undo", json={"annotator": "ana"}).json()["event"]["item_id"] == first
    assert client.post("/api/undo", json={"annotator": "ana"}).json() == {"event": None}


def test_two_annotators_see_one_state_and_their_disagreements(app, client):
    item = ids(app)[0]
    before = client.get("/api/state").json()["version"]
    with TestClient(app, base_url=BASE) as ben:
        ben.post("/annotator", data={"annotator": "ben"})
        assert ben.post("/labels", data={"item_id": item, "label": "zero"}).status_code == 200
        ben_state = ben.get("/api/state").json()
    state = client.get("/api/state").json()
    assert state["version"] != before and state["team_done"] == 1 and state["mine_done"] == 0
    assert (
        state["items"][0]["others"] == {"ben": "zero"} and ben_state["items"][0]["mine"] == "zero"
    )
    assert "ben: zero" in client.get(f"/?item={item}").text
    assert post_label(client, item, "two").status_code == 303
    rows = client.get("/api/disagreements").json()["disagreements"]
    assert rows == [{"item_id": item, "labels": {"ana": "two", "ben": "zero"}}]
    page = client.get("/disagreements").text
    assert "ana: two" in page and "ben: zero" in page and f"/items/{item}" in page
    assert "1 disagreement" in client.get("/").text


def test_an_item_can_be_sent_to_several_annotators(app, client):
    item = ids(app)[1]
    response = client.post(
        "/assignments", data={"item_id": item, "annotators": "ben, chloe"}, follow_redirects=False
    )
    assert response.headers["location"] == f"/?item={item}"
    assert app.state.campaign.progress()["assigned"] == {item: ["ben", "chloe"]}
    assert "sent to ben, chloe" in client.get(response.headers["location"]).text
    bad = client.post("/api/assignments", json={"item_id": item, "annotators": ["ok", "no way"]})
    assert bad.status_code == 422 and "annotator" in bad.json()["error"]


def test_propose_runs_in_the_background_and_a_second_one_is_a_409(app, client):
    first = ids(app)[0]
    assert post_label(client, first, "one").status_code == 303
    started = client.post("/api/propose", json={})
    assert started.status_code == 202
    second = client.post("/propose", data={}, follow_redirects=False)
    if app.state.runner.running:  # still running (it takes about a second): refused
        assert (
            second.status_code == 409 and "propose" in second.text and 'id="error"' in second.text
        )
    app.state.runner.join(timeout=120)
    assert app.state.runner.error is None
    assert app.state.campaign.current_round().number >= 2
    assert app.state.campaign.labels() == {first: "one"}
    response = post_label(client, first, "one")
    assert response.status_code == 404 and "current round" in response.text
    assert client.get("/api/propose").json()["propose"]["state"] == "idle"


@pytest.mark.parametrize("size", ["0", "-3", "two", "1.5", True])
def test_a_bad_batch_size_is_a_400(client, size):
    response = client.post("/api/propose", json={"batch_size": size})
    assert response.status_code == 400 and "batch_size must be" in response.json()["error"]
