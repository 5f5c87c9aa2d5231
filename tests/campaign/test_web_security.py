"""The labelling server's boundaries: only the pool's own items are served (traversal attempts
are 404s), the address and token rules, the Host and Origin checks."""

from __future__ import annotations

import html
import shutil

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient

from batchbald.campaign.web import WebSettings, create_app, serve
from batchbald.campaign.web.testing import make_campaign
from batchbald.errors import InvalidInputError

BASE = "http://127.0.0.1:8000"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A campaign (first round proposed) beside ``secret.txt``, made once per module."""
    return make_campaign(tmp_path_factory.mktemp("web_security"))


@pytest.fixture
def project(template, tmp_path):
    """A fresh copy of the template campaign, with the secret beside it."""
    shutil.copy(template.parent / "secret.txt", tmp_path / "secret.txt")
    return shutil.copytree(template, tmp_path / "project")


@pytest.fixture
def client(project):
    """A client of the app without a token."""
    with TestClient(create_app(WebSettings(project)), base_url=BASE) as made:
        yield made


def test_a_pool_item_is_served_with_its_media_type(client):
    item = client.app.state.campaign.current_round().item_ids[0]
    response = client.get(f"/items/{item}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def traversal_paths(project):
    pool = project.parent.parent / project.name  # any real folder: not a pool item id
    return [
        "/items/%2e%2e/secret.txt",
        "/items/%2e%2e%2fsecret.txt",
        "/items/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/items/..%2f..%2f..%2fetc%2fpasswd",
        "/items/..%5c..%5csecret.txt",
        "/items/%2fetc%2fpasswd",
        "/items//etc/passwd",
        f"/items/{project.parent / 'secret.txt'}",
        f"/items/{project / 'campaign.db'}",
        f"/items/{pool}",
        "/items/img_000.png%00.txt",
        "/items/",
        "/static/%2e%2e/app.py",
        "/static/..%2f..%2fcampaign.db",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
    ]


def test_paths_outside_the_pool_are_404s(client, project):
    for path in traversal_paths(project):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"TOP SECRET" not in response.content and b"SQLite" not in response.content, path


def test_a_vanished_image_is_reported_not_served(client, tmp_path):
    item = client.app.state.campaign.current_round().item_ids[0]
    path = client.app.state.campaign.source().root / item  # the module's shared pool
    path.rename(tmp_path / item)
    try:
        response = client.get(f"/items/{item}", headers={"accept": "application/json"})
        assert response.status_code == 410 and item in response.json()["error"]
    finally:
        (tmp_path / item).rename(path)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_a_non_local_address_needs_a_token(project, host):
    with pytest.raises(InvalidInputError, match="token is required to serve on the non-local"):
        WebSettings(project, host=host)
    with pytest.raises(InvalidInputError, match="token is required"):
        serve(project, host=host)  # refused before anything listens
    assert WebSettings(project, host=host, token=TOKEN).token == TOKEN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": "short"}, "token must be a string of at least 16 characters; got 5"),
        ({"token": "has a space in it, long"}, "token must be printable characters"),
        ({"port": 70000}, "port must be an integer 0–65535; got 70000"),
        ({"port": "80"}, "port must be an integer 0–65535; got '80'"),
        ({"host": ""}, "host must be a non-empty address"),
        ({"poll_seconds": 0}, "poll_seconds must be > 0"),
    ],
)
def test_bad_settings_are_named(project, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        WebSettings(project, **kwargs)


@pytest.fixture
def token_client(project):
    """A client of the app on 0.0.0.0 with an access token (none sent yet)."""
    app = create_app(WebSettings(project, host="0.0.0.0", token=TOKEN))
    with TestClient(app, base_url="http://10.0.0.5:8000") as made:
        yield made


def test_with_a_token_every_request_needs_it(token_client):
    for path in ("/", "/annotator", "/static/campaign.css", "/api/state", "/items/img_000.png"):
        response = token_client.get(path, follow_redirects=False)
        assert response.status_code == 401, path
    page = html.unescape(token_client.get("/").text)
    assert "token must be this server's access token" in page and 'name="token"' in page
    assert token_client.get("/api/state").json()["error"].endswith("got none")
    wrong = token_client.get("/api/state", headers={"authorization": "Bearer wrong-token-xxxxxxx"})
    assert wrong.status_code == 401 and wrong.json()["error"].endswith("got a wrong token")
    assert token_client.post("/api/labels", json={}).status_code == 401
    right = token_client.get("/api/state", headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200


def test_the_token_in_the_address_sets_a_cookie_and_leaves_the_address(token_client):
    response = token_client.get(f"/disagreements?token={TOKEN}&x=1", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/disagreements?x=1")
    assert "httponly" in response.headers["set-cookie"].lower()
    assert token_client.get("/disagreements").status_code == 200  # the cookie now
    assert token_client.get("/annotator").status_code == 200


def test_a_foreign_host_name_is_refused_on_a_local_server(project):
    with TestClient(create_app(WebSettings(project)), base_url="http://evil.example:8000") as c:
        response = c.get("/")
        assert response.status_code == 403 and "Host must be a local name" in response.text


def test_a_write_from_another_site_is_refused(client):
    item = client.app.state.campaign.current_round().item_ids[0]
    data = {"item_id": item, "label": "one", "annotator": "ana"}
    evil = client.post("/api/labels", json=data, headers={"origin": "http://evil.example"})
    assert evil.status_code == 403 and "Origin must be this server" in evil.json()["error"]
    assert client.post("/api/labels", json=data, headers={"origin": "null"}).status_code == 403
    same = client.post("/api/labels", json=data, headers={"origin": BASE})
    assert same.status_code == 200
    assert client.app.state.campaign.labels() == {item: "one"}


def test_the_cli_refuses_a_public_address_without_a_token_in_one_line(project, capsys):
    from batchbald.cli import main

    assert main(["campaign", "serve", str(project), "--host", "0.0.0.0"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "token is required to serve on the non-local" in error


def test_a_busy_port_is_named_before_serving(project):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidInputError, match=f"port must be free on 127.0.0.1; got {port}"):
            serve(project, port=port)


def test_every_response_forbids_framing_and_foreign_scripts(client):
    for path in ("/", "/annotator", "/no/such/page", "/static/campaign.js"):
        headers = client.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src" not in headers["content-security-policy"]  # default-src 'self'
