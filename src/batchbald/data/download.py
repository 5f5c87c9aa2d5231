"""Checksummed, atomic downloads from a list of mirrors, and extraction from zip archives.

The network is reached only through an *opener* ``opener(url) -> binary file-like`` (default:
:func:`urllib.request.urlopen` with a timeout), so tests can serve files from a local HTTP
server or a fake opener. Nothing half-written is ever left at the destination.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from batchbald.data.idx import atomic_write
from batchbald.errors import DataError, InvalidInputError

__all__ = ["Checksum", "Opener", "download_file", "extract_member", "file_checksum"]

logger = logging.getLogger(__name__)

Opener = Callable[[str], BinaryIO]
_CHUNK = 1 << 20
_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Checksum:
    """A file digest: ``algorithm`` (``"sha256"`` or ``"md5"``) and lowercase hex ``digest``."""

    algorithm: str
    digest: str

    @classmethod
    def parse(cls, text: str | Checksum) -> Checksum:
        """From ``"sha256:<hex>"``, ``"md5:<hex>"`` or a bare hex digest (length decides).

        >>> Checksum.parse("md5:" + "ab" * 16).algorithm
        'md5'
        """
        if isinstance(text, Checksum):
            return text
        algorithm, _, digest = text.strip().lower().rpartition(":")
        algorithm = algorithm or {32: "md5", 64: "sha256"}.get(len(digest), "")
        lengths = {"md5": 32, "sha256": 64}
        valid_hex = all(c in "0123456789abcdef" for c in digest)
        if lengths.get(algorithm) != len(digest) or not valid_hex:
            raise InvalidInputError(
                "a checksum must be 'sha256:<64 hex digits>', 'md5:<32 hex digits>' or a bare "
                f"digest of either length; got {text!r}"
            )
        return cls(algorithm, digest)

    def new_hash(self) -> Any:
        """A fresh ``hashlib`` object of this checksum's algorithm."""
        return hashlib.new(self.algorithm)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest}"


def file_checksum(path: Path, algorithm: str) -> str:
    """The hex digest of a file's bytes."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def default_opener(url: str) -> BinaryIO:
    """``urllib.request.urlopen`` with a timeout and a descriptive User-Agent."""
    request = urllib.request.Request(url, headers={"User-Agent": "batchbald-data/0.1"})
    return urllib.request.urlopen(request, timeout=_TIMEOUT_S)


def download_file(
    urls: Sequence[str],
    destination: Path,
    *,
    checksum: Checksum | None,
    opener: Opener | None = None,
) -> Path:
    """Fetch the first mirror that answers with the right bytes into ``destination``.

    Args:
        urls: mirrors, tried in order.
        destination: the final path; it appears only after the checksum matched.
        checksum: expected digest, or None to accept any bytes.
        opener: ``opener(url) -> binary file-like``; None means :func:`default_opener`.

    Raises:
        DataError: every mirror failed; the message lists each URL with its failure.
    """
    opener = opener or default_opener
    failures = []
    for url in urls:
        try:
            _download_one(url, destination, checksum, opener)
            return destination
        except Exception as error:  # any mirror failure means: try the next
            failures.append(f"  {url}: {error}")
            logger.warning("download of %s failed: %s", url, error)
    tried = "\n".join(failures) or "  (no download URLs are known for this file)"
    raise DataError(f"could not download {destination.name}; tried:\n{tried}")


def _download_one(url: str, destination: Path, checksum: Checksum | None, opener: Opener) -> None:
    logger.info("downloading %s to %s", url, destination)
    digest = checksum.new_hash() if checksum else None

    def write(handle: BinaryIO) -> None:
        with closing(opener(url)) as response:
            _copy(response, handle, digest)
        if mismatch := _mismatch(checksum, digest):
            raise DataError(f"checksum mismatch: {mismatch}")

    atomic_write(destination, write)


def extract_member(
    archive: Path, member: str, destination: Path, *, checksum: Checksum | None
) -> Path:
    """Copy one member of a zip ``archive`` to ``destination`` atomically, verifying it.

    Raises:
        DataError: the archive is unreadable, lacks ``member``, or the member's checksum
            does not match.
    """
    digest = checksum.new_hash() if checksum else None

    def write(handle: BinaryIO) -> None:
        with zipfile.ZipFile(archive) as zipped, zipped.open(member) as source:
            _copy(source, handle, digest)
        if mismatch := _mismatch(checksum, digest):
            raise DataError(f"{member} in {archive} has the wrong checksum: {mismatch}")

    try:
        atomic_write(destination, write)
    except KeyError as error:
        raise DataError(f"{archive} does not contain {member!r}") from error
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"cannot extract {member!r} from {archive}: {error}") from error
    return destination


def _copy(source: Any, handle: BinaryIO, digest: Any) -> None:
    """Copy ``source`` into ``handle`` in chunks, feeding ``digest`` (a hashlib object or None)."""
    while chunk := source.read(_CHUNK):
        if digest is not None:
            digest.update(chunk)
        handle.write(chunk)


def _mismatch(checksum: Checksum | None, digest: Any) -> str | None:
    """The text "expected …, got …" when ``digest`` does not match ``checksum``, else None."""
    if checksum is not None and digest is not None and digest.hexdigest() != checksum.digest:
        return f"expected {checksum}, got {checksum.algorithm}:{digest.hexdigest()}"
    return None
