"""Checks of the CLI's output paths, made before any work, so a mistake costs nothing.

A command that would compute for minutes and then fail to write its result checks first that
the result can be written: the path is not a folder (or, for folders, not a file), no part of
its parent is a file, the nearest existing folder is writable, and (where the command refuses
to replace results) the file does not exist yet. The write itself is atomic
(:mod:`batchbald.atomic`), so a failure at the end (a full disk) still leaves the old file.
"""

from __future__ import annotations

import os
from pathlib import Path

from batchbald.errors import OutputError

__all__ = ["check_output_file", "check_output_folder"]


def check_output_file(path: str | os.PathLike[str], option: str, *, overwrite: bool = True) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a file can be written there.

    Args:
        path: the output file.
        option: how messages name it (the command-line option).
        overwrite: whether an existing file may be replaced; if not, one is refused.

    Raises:
        OutputError: ``path`` is a folder, exists while ``overwrite`` is False, or cannot be
            created (a file where a folder should be, a folder without write permission).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{option} {str(path)!r} is a folder; give a file path")
    if path.exists() and not overwrite:
        raise OutputError(
            f"{option} {str(path)!r} already exists; pass --overwrite to replace it "
            "(atomically), or choose another path"
        )
    _check_parent(path, option)
    return path


def check_output_folder(path: str | os.PathLike[str], option: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is, or can be created as, a writable folder.

    Raises:
        OutputError: ``path`` is a file, or cannot be created or written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {str(path)!r} is a file; give a folder")
    if path.is_dir():
        _check_writable(path, path, option)
    else:
        _check_parent(path, option)
    return path


def _check_parent(path: Path, option: str) -> None:
    existing = next(parent for parent in path.parents if parent.exists())  # "." or "/" at last
    if not existing.is_dir():
        raise OutputError(
            f"{option} {str(path)!r} cannot be created: {str(existing)!r} is a file, not a folder"
        )
    _check_writable(path, existing, option)


def _check_writable(path: Path, folder: Path, option: str) -> None:
    # os.access answers for the real user; root passes it, then a read-only filesystem
    # still fails at the write, which reports it as an OutputError.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"{option} {str(path)!r} cannot be written: folder {str(folder)!r} is not writable"
        )
