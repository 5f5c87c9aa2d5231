"""Listing a folder of images fast: one ``os.scandir`` walk with string paths."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path

__all__ = ["walk_images"]


def walk_images(root: Path, suffixes: Collection[str]) -> Iterator[tuple[str, str, str]]:
    """``(relative path, its folder, fingerprint)`` of every file under ``root`` with a suffix.

    Paths use ``/``; the folder is the relative path of the file's folder ("" at the top). Hidden
    files and folders are skipped; like ``os.walk``, a link to a folder is listed as a folder but
    not walked into, and a link to a file is followed. The fingerprint ``"size:mtime_ns"`` changes
    when the content may have changed. Files or folders that vanish while walking are left out.
    On a 60,000-file pool the campaign's scanning phase (walk + items sync) fell from 1.6–2.3 s
    to 0.9–1.4 s with it (``benchmarks/campaign_propose.py``; docs/performance.md).
    """
    folders = [("", os.fspath(root))]
    while folders:
        prefix, folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # vanished while walking
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = prefix + entry.name
            if _is_folder(entry):
                if not entry.is_symlink():
                    folders.append((relative + "/", entry.path))
            elif os.path.splitext(entry.name)[1].lower() in suffixes:
                try:
                    stat = entry.stat()
                except OSError:  # vanished while walking
                    continue
                yield relative, prefix.rstrip("/"), f"{stat.st_size}:{stat.st_mtime_ns}"


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """``entry`` is a folder or a link to one (as ``os.walk`` sorts entries)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
