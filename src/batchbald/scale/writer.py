"""Incremental, resumable writing of a log-probability store (see :mod:`batchbald.scale.store`).

A scoring job creates a :class:`StoreWriter` for a pool of N rows in shards of R rows and
writes shards in any order; :attr:`StoreWriter.pending` lists what is still to do, so a job
killed at any moment and started again with the same arguments redoes only unlisted shards.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from batchbald.atomic import atomic_write_bytes, remove_stale_temporaries
from batchbald.errors import InvalidInputError, StoreError
from batchbald.scale.store import (
    DTYPES,
    FORMAT,
    MANIFEST,
    expected_shards,
    read_manifest,
    shard_name,
)

__all__ = ["StoreWriter", "npy_bytes", "pending_shards"]


def npy_bytes(array: np.ndarray) -> bytes:
    """The bytes ``numpy.save`` would write for a C-ordered ``array``."""
    stream = io.BytesIO()
    np.lib.format.write_array(stream, np.ascontiguousarray(array), allow_pickle=False)
    return stream.getvalue()


class StoreWriter:
    """Writes the shards of one store directory; resumes a store begun with the same layout.

    Args:
        path: the store directory (created if missing).
        num_rows: N, the pool size.
        num_samples: K.
        num_classes: C.
        shard_rows: R, rows per shard (the last may be shorter).
        dtype: ``"float32"`` or ``"float64"``.

    Raises:
        StoreError: ``path`` holds a store of another layout (N, K, C, dtype or R differ).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        num_rows: int,
        num_samples: int,
        num_classes: int,
        shard_rows: int,
        dtype: str = "float32",
    ) -> None:
        sizes = {
            "num_rows": num_rows,
            "num_samples": num_samples,
            "num_classes": num_classes,
            "shard_rows": shard_rows,
        }
        for name, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
        if dtype not in DTYPES:
            raise InvalidInputError(f"dtype must be one of {DTYPES}; got {dtype!r}")
        self.path = Path(path)
        self.layout = {"format": FORMAT, "version": 1, **sizes, "dtype": dtype}
        self.sizes = expected_shards(num_rows, shard_rows)
        self.path.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)  # left by a job killed mid-write
        self.shards: dict[str, Any] = {}
        if (self.path / MANIFEST).exists():
            manifest = read_manifest(self.path)
            differing = [key for key in self.layout if manifest.get(key) != self.layout[key]]
            if differing:
                found = {key: manifest.get(key) for key in differing}
                wanted = {key: self.layout[key] for key in differing}
                raise StoreError(
                    f"store {str(self.path)!r} was begun with {found}; this job writes {wanted} "
                    "(use another directory or delete it)"
                )
            self.shards = dict(manifest["shards"])
        else:
            self._write_manifest()

    @property
    def pending(self) -> list[int]:
        """Indices of the shards not written yet, in order."""
        return [index for index in range(len(self.sizes)) if str(index) not in self.shards]

    def rows_of(self, index: int) -> slice:
        """The pool rows shard ``index`` holds."""
        start = index * self.layout["shard_rows"]
        return slice(start, start + self.sizes[index])

    def write(self, index: int, log_probs_n_K_C: Any) -> None:
        """Write shard ``index`` (atomically), then list it in the manifest (atomically).

        Raises:
            InvalidInputError: the array's shape or dtype does not fit the shard.
        """
        array = (
            log_probs_n_K_C.detach().cpu().numpy()
            if isinstance(log_probs_n_K_C, torch.Tensor)
            else np.asarray(log_probs_n_K_C)
        )
        if not 0 <= index < len(self.sizes):
            raise InvalidInputError(f"shard index must lie in [0, {len(self.sizes)}); got {index}")
        expected = (self.sizes[index], self.layout["num_samples"], self.layout["num_classes"])
        if array.shape != expected or array.dtype.name != self.layout["dtype"]:
            raise InvalidInputError(
                f"shard {index} must be {self.layout['dtype']} {expected}; "
                f"got {array.dtype.name} {array.shape}"
            )
        data = npy_bytes(array)
        atomic_write_bytes(self.path / shard_name(index), data, tidy=False)
        self.shards[str(index)] = {"rows": expected[0], "sha256": hashlib.sha256(data).hexdigest()}
        self._write_manifest()

    def _write_manifest(self) -> None:
        manifest = {**self.layout, "shards": dict(sorted(self.shards.items(), key=_by_index))}
        text = json.dumps(manifest, indent=1) + "\n"
        atomic_write_bytes(self.path / MANIFEST, text.encode(), tidy=False)


def pending_shards(path: str | Path) -> int | None:
    """Shards a store directory begun at ``path`` still lacks (None: no store begun there)."""
    path = Path(path)
    if not (path / MANIFEST).is_file():
        return None
    manifest = read_manifest(path)
    total = len(expected_shards(manifest["num_rows"], manifest["shard_rows"]))
    return total - len(manifest["shards"])


def _by_index(item: tuple[str, Any]) -> int:
    return int(item[0])
