"""Checksummed atomic downloads: fake openers, a local HTTP server, zip extraction."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchbald.data import Checksum
from batchbald.data.download import download_file, extract_member
from batchbald.errors import DataError, InvalidInputError

from .conftest import FakeOpener

PAYLOAD = b"batchbald test payload " * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


def test_checksum_parse_forms() -> None:
    assert Checksum.parse(f"sha256:{SHA}") == Checksum("sha256", SHA)
    assert Checksum.parse(SHA.upper()) == Checksum("sha256", SHA)
    assert Checksum.parse(MD5) == Checksum("md5", MD5)
    assert str(Checksum.parse(f"md5:{MD5}")) == f"md5:{MD5}"


@pytest.mark.parametrize("text", ["sha1:abcd", "md5:" + "g" * 32, "1234", "sha256:" + "a" * 32])
def test_checksum_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidInputError, match="a checksum must be 'sha256:<64 hex digits>'"):
        Checksum.parse(text)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("digest", [f"sha256:{SHA}", f"md5:{MD5}", None])
def test_download_verifies_and_writes(tmp_path: Path, digest: str | None) -> None:
    opener = FakeOpener({"http://m/x.gz": PAYLOAD})
    checksum = Checksum.parse(digest) if digest else None
    path = download_file(["http://m/x.gz"], tmp_path / "x.gz", checksum=checksum, opener=opener)
    assert path.read_bytes() == PAYLOAD
    assert listing(tmp_path) == ["x.gz"]


def test_checksum_mismatch_leaves_nothing(tmp_path: Path) -> None:
    opener = FakeOpener({"http://m/x.gz": PAYLOAD[:-1]})
    with pytest.raises(
        DataError,
        match=rf"could not download x.gz; tried:\n  http://m/x.gz: "
        rf"checksum mismatch: expected sha256:{SHA}, got sha256:",
    ):
        download_file(
            ["http://m/x.gz"], tmp_path / "x.gz", checksum=Checksum("sha256", SHA), opener=opener
        )
    assert listing(tmp_path) == []


def test_falls_back_to_the_next_mirror(tmp_path: Path) -> None:
    opener = FakeOpener({"http://b/x.gz": PAYLOAD})
    download_file(
        ["http://a/x.gz", "http://b/x.gz"],
        tmp_path / "x.gz",
        checksum=Checksum("sha256", SHA),
        opener=opener,
    )
    assert opener.calls == ["http://a/x.gz", "http://b/x.gz"]
    assert (tmp_path / "x.gz").read_bytes() == PAYLOAD


class BreaksMidway(io.BytesIO):
    def read(self, size: int = -1) -> bytes:
        if self.tell() > 0:
            raise ConnectionResetError("connection reset by peer")
        return super().read(10)


def test_connection_dropped_midway_leaves_nothing(tmp_path: Path) -> None:
    def opener(url: str) -> io.BytesIO:
        return BreaksMidway(PAYLOAD)

    with pytest.raises(DataError, match=r"http://m/x\.gz: connection reset by peer"):
        download_file(["http://m/x.gz"], tmp_path / "x.gz", checksum=None, opener=opener)
    assert listing(tmp_path) == []


def test_every_failure_is_listed(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"(?s)http://a/x.gz: HTTP Error 404.*http://b/x.gz: HTTP"):
        download_file(
            ["http://a/x.gz", "http://b/x.gz"],
            tmp_path / "x.gz",
            checksum=None,
            opener=FakeOpener({}),
        )
    with pytest.raises(DataError, match="no download URLs are known"):
        download_file([], tmp_path / "x.gz", checksum=None, opener=FakeOpener({}))


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temporary folder, in a thread."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


def test_default_opener_against_a_local_http_server(
    http_root: tuple[str, Path], tmp_path: Path
) -> None:
    base, served = http_root
    (served / "x.gz").write_bytes(PAYLOAD)
    out = tmp_path / "out"
    download_file(
        [base + "missing.gz", base + "x.gz"], out / "x.gz", checksum=Checksum("sha256", SHA)
    )
    assert (out / "x.gz").read_bytes() == PAYLOAD
    assert listing(out) == ["x.gz"]


def test_http_404_is_reported(http_root: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = http_root
    with pytest.raises(DataError, match=r"missing.gz: HTTP Error 404"):
        download_file([base + "missing.gz"], tmp_path / "x.gz", checksum=None)
    assert not (tmp_path / "x.gz").exists()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return path


def test_extract_member_verifies(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"gzip/x.gz": PAYLOAD})
    out = extract_member(
        archive, "gzip/x.gz", tmp_path / "d" / "x.gz", checksum=Checksum("sha256", SHA)
    )
    assert out.read_bytes() == PAYLOAD


def test_extract_member_failures_leave_nothing(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"gzip/x.gz": PAYLOAD})
    dest = tmp_path / "d" / "x.gz"
    with pytest.raises(DataError, match=r"a.zip does not contain 'gzip/y.gz'"):
        extract_member(archive, "gzip/y.gz", dest, checksum=None)
    with pytest.raises(
        DataError, match=r"gzip/x.gz in .*a.zip has the wrong checksum: expected md5"
    ):
        extract_member(archive, "gzip/x.gz", dest, checksum=Checksum("md5", "0" * 32))
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"cannot extract 'gzip/x.gz' from .*broken.zip"):
        extract_member(tmp_path / "broken.zip", "gzip/x.gz", dest, checksum=None)
    assert listing(dest.parent) == []
