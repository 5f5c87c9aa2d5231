"""Where data files live: the data directory, the decoded-array cache, and file lookup.

Data directory precedence: an explicit ``data_dir`` (the CLI's ``--data-dir``) >
``$BATCHBALD_DATA_DIR`` > ``$XDG_CACHE_HOME/batchbald`` > ``~/.cache/batchbald``. Inside it a
file may sit in a per-dataset folder (``<dir>/mnist/train-images-idx3-ubyte.gz``) or directly
in the directory, gzip-compressed or not.
"""

from __future__ import annotations

import os
from pathlib import Path

from batchbald.data.catalog import IdxDatasetSpec

__all__ = [
    "CACHE_DIR_ENV",
    "DATA_DIR_ENV",
    "candidate_paths",
    "default_cache_dir",
    "resolve_data_dir",
]

DATA_DIR_ENV = "BATCHBALD_DATA_DIR"
CACHE_DIR_ENV = "BATCHBALD_CACHE_DIR"


def _user_cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "batchbald"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``data_dir`` > ``$BATCHBALD_DATA_DIR`` > the per-user cache.

    >>> str(resolve_data_dir("/srv/data"))
    '/srv/data'
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return _user_cache_root()


def default_cache_dir() -> Path:
    """Where decoded arrays are cached: ``$BATCHBALD_CACHE_DIR`` or ``<user cache>/decoded``."""
    from_env = os.environ.get(CACHE_DIR_ENV)
    return Path(from_env).expanduser() if from_env else _user_cache_root() / "decoded"


def candidate_paths(spec: IdxDatasetSpec, file_name: str, root: Path) -> list[Path]:
    """Every path where ``file_name`` is looked for, in order of preference.

    Per-dataset folders come first, then ``root`` itself; for a ``.gz`` name the
    decompressed name is accepted after it.
    """
    names = [file_name]
    if file_name.endswith(".gz"):
        names.append(file_name[: -len(".gz")])
    folders = [root / sub for sub in spec.subdirs] + [root]
    return [folder / name for folder in folders for name in names]


def download_folder(spec: IdxDatasetSpec, root: Path) -> Path:
    """Where missing files of ``spec`` are downloaded: ``<root>/<first subdir>``."""
    return root / spec.subdirs[0] if spec.subdirs else root
