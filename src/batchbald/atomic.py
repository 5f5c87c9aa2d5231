"""The one way batchbald writes a file: all or nothing, and no litter after a crash.

Every output (trial files, picks, report tables and plots, campaign exports, store shards and
manifests, weights, caches) goes through :func:`atomic_write`: the bytes are written to a
temporary file ``.<name>.<random>.part`` in the target's folder, flushed to disk and renamed
onto the target, so a reader, a crash or a full disk only ever leaves the old file or the new
one. While it writes, the writer holds an exclusive ``flock`` on its temporary file; a
temporary file that nobody holds was left by a process that died mid-write, and
:func:`remove_stale_temporaries` deletes it (the next write of the same target does so first).
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from batchbald.errors import BatchBALDError, OutputError

try:
    import fcntl
except ImportError:  # not POSIX: temporaries are not locked, so none is ever deemed stale
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TEMPORARY_SUFFIX",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "output_error",
    "remove_stale_temporaries",
]

#: Suffix of the temporary files of :func:`atomic_write`; their names start with ``.<target>.``.
TEMPORARY_SUFFIX = ".part"


def output_error(path: str | os.PathLike[str], error: OSError, doing: str = "write") -> OutputError:
    """An :class:`~batchbald.errors.OutputError` naming ``path`` and the system's reason.

    >>> import errno
    >>> str(output_error("out/picks.json", OSError(errno.ENOSPC, "No space left on device")))
    "cannot write 'out/picks.json': No space left on device"
    """
    wrapped = OutputError(f"cannot {doing} {str(path)!r}: {_reason(Path(path), error)}")
    wrapped.errno, wrapped.strerror, wrapped.filename = error.errno, error.strerror, str(path)
    return wrapped


def _reason(path: Path, error: OSError) -> str:
    """The system's reason, or which part of ``path`` is in the way."""
    if path.is_dir():
        return "it is a folder; give a file path"
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return f"{str(blocking)!r} is a file, not a folder"
    return error.strerror or str(error)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *, tidy: bool = True
) -> None:
    """Create or replace ``path`` atomically: readers see the old file or the new one.

    ``write(handle)`` fills a temporary file in the same folder, which is flushed to disk and
    renamed onto ``path`` only if ``write`` returns; otherwise it is removed and the old file
    stays. The file gets the permissions of a plain ``open(path, "w")`` (0666 minus the umask);
    the folder (created if missing) is synced too where the platform allows it.

    Args:
        path: the file to write.
        write: fills the open binary handle.
        tidy: first delete the temporaries of ``path`` that dead processes left (writers of
            many files in one folder sweep it once instead, :func:`remove_stale_temporaries`).

    Raises:
        OutputError: the folder or file cannot be created or written (no permission, a file
            where a folder should be, disk full, ...); the old file is untouched.
        Exception: whatever ``write`` raises, unchanged; the old file is untouched.
    """
    path = Path(path)
    with _as_output_error(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if tidy:
            remove_stale_temporaries(path.parent, glob.escape(path.name))
        descriptor, temporary = _locked_temporary(path)
    handle = os.fdopen(descriptor, "wb")
    try:
        write(handle)  # its own errors (e.g. a download's) pass through unchanged
        with _as_output_error(path):
            _put_in_place(handle, temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        with suppress(OSError):  # closing flushes what is left, which may fail again
            handle.close()
        raise
    handle.close()  # releases the lock; everything is flushed already
    _sync_folder(path.parent)


def _put_in_place(handle: BinaryIO, temporary: str, path: Path) -> None:
    """Flush and sync the temporary file, give it plain permissions, rename it onto ``path``."""
    handle.flush()
    os.fchmod(handle.fileno(), 0o666 & ~_umask())
    os.fsync(handle.fileno())
    os.replace(temporary, path)  # still locked: no sweeper can take it meanwhile


@contextmanager
def _as_output_error(path: Path) -> Iterator[None]:
    try:
        yield
    except BatchBALDError:
        raise
    except OSError as error:
        raise output_error(path, error) from error


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, tidy: bool = True) -> None:
    """:func:`atomic_write` of ``data``."""
    atomic_write(path, lambda handle: handle.write(data), tidy=tidy)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """:func:`atomic_write` of ``text`` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file next to ``path``, exclusively locked: ``(descriptor, name)``."""
    while True:
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX
        )
        if fcntl is None:
            return descriptor, temporary
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_nlink > 0:
            return descriptor, temporary
        # A sweeper took it between its creation and our lock (it was not locked yet): retry.
        os.close(descriptor)


def remove_stale_temporaries(folder: str | os.PathLike[str], name: str = "*") -> list[Path]:
    """Delete the temporary files of :func:`atomic_write` that no live process is writing.

    A writer holds an exclusive lock on its temporary file until it is renamed or removed, so a
    temporary file whose lock can be taken was left by a process that died mid-write (e.g.
    killed, or the machine lost power). Safe to call while other processes write into
    ``folder``. Does nothing where ``flock`` is unavailable (not POSIX).

    Args:
        folder: where to look (not recursive); a missing folder has nothing to remove.
        name: the target file whose temporaries to remove (a glob; default: every target).

    Returns:
        The files removed.
    """
    if fcntl is None:
        return []
    removed = []
    for candidate in sorted(Path(folder).glob(f".{name}.*{TEMPORARY_SUFFIX}")):
        try:
            descriptor = os.open(candidate, os.O_RDWR)
        except OSError:  # gone meanwhile (renamed into place), or not ours to touch
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            candidate.unlink()  # while locked: a writer that just created it will retry
            removed.append(candidate)
        except OSError:  # locked by a live writer, or gone
            continue
        finally:
            os.close(descriptor)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; restored at once
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    try:
        directory = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(directory)
    except OSError:  # some filesystems refuse to sync a folder; the rename is done regardless
        pass
    finally:
        os.close(directory)
