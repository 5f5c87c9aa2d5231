"""A memory-mapped log-probability store ``[N, K, C]`` on disk, larger than memory if need be.

Two layouts are read:

* one ``.npy`` file (``numpy.save`` or ``np.lib.format.open_memmap``), memory-mapped;
* a directory of shards ``shard-000000.npy`` ... with ``manifest.json``::

      {"format": "batchbald-log-probs", "version": 1, "num_rows": N, "num_samples": K,
       "num_classes": C, "dtype": "float32", "shard_rows": R,
       "shards": {"0": {"rows": R, "sha256": "..."}, ...}}

  Shard i holds rows ``[i·R, i·R + rows)``. :class:`StoreWriter` writes each shard to a
  temporary file, fsyncs it and renames it into place, then rewrites the manifest the same way,
  so a shard is either listed complete or not listed at all: an interrupted job resumes at the
  first unlisted shard and a reader never sees a partial one.

:func:`open_store` checks the layout before anything is read: every shard's header must agree
with the manifest's K, C and dtype, its file size must match its header (a truncated shard is
an error), every row must be present; :meth:`LogProbStore.verify` also checks the SHA-256 sums.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from batchbald.errors import InvalidInputError, StoreError

__all__ = ["MANIFEST", "LogProbStore", "open_store", "read_manifest", "shard_name"]

MANIFEST = "manifest.json"
FORMAT = "batchbald-log-probs"
DTYPES = ("float32", "float64")


def shard_name(index: int) -> str:
    """File name of shard ``index`` inside a store directory."""
    return f"shard-{index:06d}.npy"


def _read_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of an ``.npy`` file, without reading its data."""
    try:
        with open(path, "rb") as handle:
            major, _ = np.lib.format.read_magic(handle)
            read = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read(handle)
            offset = handle.tell()
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot read the .npy header of {str(path)!r}: {error}") from None
    if fortran:
        raise StoreError(f"{str(path)!r} is Fortran-ordered; the store needs C order")
    return tuple(shape), np.dtype(dtype), offset


# Rows per read (and per temporary memory map in ``take``): bounds resident memory.
BLOCK_ROWS = 2**16


@dataclass(frozen=True)
class Part:
    """One ``.npy`` file of a store: ``rows`` rows of ``[K, C]`` starting ``offset`` bytes in."""

    path: Path
    offset: int
    rows: int


def _check_npy(path: Path, rows: int | None, tail: tuple[int, ...], dtype: str) -> Part:
    """Check ``path``'s shape, dtype and size (truncation) against the expected layout."""
    shape, file_dtype, offset = _read_header(path)
    expected = ((rows,) if rows is not None else shape[:1]) + tuple(tail)
    if len(shape) != 3 or shape != expected or file_dtype.name != dtype:
        raise StoreError(
            f"shard {str(path)!r} holds {file_dtype.name} {shape}; the manifest says {dtype} "
            f"{expected} (shards must agree in K and C)"
        )
    size = offset + int(np.prod(shape)) * file_dtype.itemsize
    actual = path.stat().st_size
    if actual != size:
        raise StoreError(
            f"shard {str(path)!r} is truncated or padded: {actual} bytes, its header needs {size}"
        )
    return Part(path, offset, shape[0])


@dataclass(frozen=True)
class LogProbStore:
    """Read-only view of a store: ``parts`` are ``.npy`` files of ``[n_i, K, C]`` in row order.

    Nothing stays mapped or loaded: :meth:`chunks` reads slices with plain file reads and
    :meth:`take` maps one block at a time, so resident memory is bounded by a block, not by N.

    Attributes:
        path: the ``.npy`` file or store directory.
        parts: the pieces (one for a file, one per shard).
        num_samples: K.
        num_classes: C.
        dtype: the stored dtype (float32 or float64).
        checksums: expected SHA-256 of each part's file (empty for a single file).
    """

    path: Path
    parts: tuple[Part, ...]
    num_samples: int
    num_classes: int
    dtype: np.dtype
    checksums: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, K, C)``."""
        return (sum(part.rows for part in self.parts), self.num_samples, self.num_classes)

    @property
    def nbytes(self) -> int:
        """Bytes of log-probabilities (N · K · C · itemsize)."""
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def _read(self, part: Part, first: int, count: int) -> np.ndarray:
        row_items = self.num_samples * self.num_classes
        with open(part.path, "rb") as handle:
            handle.seek(part.offset + first * row_items * self.dtype.itemsize)
            data = np.fromfile(handle, dtype=self.dtype, count=count * row_items)
        if data.size != count * row_items:
            raise StoreError(f"{str(part.path)!r} ended early (truncated while being read)")
        return data.reshape(count, self.num_samples, self.num_classes)

    def chunks(self, max_rows: int) -> Iterator[tuple[int, torch.Tensor]]:
        """``(start, log_probs_n_K_C)`` for consecutive slices of at most ``max_rows`` rows."""
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise InvalidInputError(f"max_rows must be an int ≥ 1; got {max_rows!r}")
        start = 0
        for part in self.parts:
            for first in range(0, part.rows, max_rows):
                count = min(max_rows, part.rows - first)
                yield start + first, torch.from_numpy(self._read(part, first, count))
            start += part.rows

    def take(self, indices: Any) -> torch.Tensor:
        """Rows at ``indices`` (any order) as one tensor ``[len(indices), K, C]``."""
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        num_rows = self.shape[0]
        if index.size and (index.min() < 0 or index.max() >= num_rows):
            raise InvalidInputError(f"indices must lie in [0, {num_rows}); got {index.max()}")
        out = np.empty((index.size, self.num_samples, self.num_classes), dtype=self.dtype)
        row_bytes = self.num_samples * self.num_classes * self.dtype.itemsize
        order = np.argsort(index, kind="stable")
        wanted = index[order]
        start = 0
        for part in self.parts:
            for first in range(0, part.rows, BLOCK_ROWS):
                low, high = start + first, start + min(first + BLOCK_ROWS, part.rows)
                begin, end = np.searchsorted(wanted, [low, high])
                if end > begin:
                    block = np.memmap(
                        part.path, dtype=self.dtype, mode="r",
                        offset=part.offset + first * row_bytes,
                        shape=(high - low, self.num_samples, self.num_classes),
                    )  # fmt: skip
                    out[order[begin:end]] = block[wanted[begin:end] - low]
                    del block  # unmapped: its pages leave this process's resident set
            start += part.rows
        return torch.from_numpy(out)

    def verify(self) -> None:
        """Check every shard's SHA-256 against the manifest (reads the whole store).

        Raises:
            StoreError: a shard's contents changed since it was written.
        """
        for part, expected in zip(self.parts, self.checksums, strict=False):
            actual = _sha256(part.path)
            if actual != expected:
                raise StoreError(
                    f"shard {str(part.path)!r} fails its checksum: sha256 {actual[:12]}…, the "
                    f"manifest says {expected[:12]}… (delete the shard and resume scoring)"
                )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a store directory (checked for format and fields)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise StoreError(f"{str(directory)!r} has no {MANIFEST}: not a log-probability store")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StoreError(f"cannot read {str(path)!r}: {error}") from None
    keys = ("num_rows", "num_samples", "num_classes", "dtype", "shard_rows", "shards")
    if manifest.get("format") != FORMAT or any(key not in manifest for key in keys):
        raise StoreError(f"{str(path)!r} is not a {FORMAT} manifest (needs {', '.join(keys)})")
    return manifest


def expected_shards(num_rows: int, shard_rows: int) -> list[int]:
    """Rows of each shard of a store of ``num_rows`` rows in shards of ``shard_rows``."""
    full, rest = divmod(num_rows, shard_rows)
    return [shard_rows] * full + ([rest] if rest else [])


def open_store(path: str | Path) -> LogProbStore:
    """Open a ``.npy`` file or a store directory for reading (checked, nothing loaded).

    Raises:
        StoreError: missing file, a shard disagreeing in K, C or dtype, a truncated shard, or
            missing shards (the message says how many rows are missing).
    """
    path = Path(path)
    if path.is_file():
        shape, dtype, _ = _read_header(path)
        if len(shape) != 3 or dtype.name not in DTYPES:
            raise StoreError(f"{str(path)!r} must hold float32/64 [N, K, C]; got {dtype} {shape}")
        part = _check_npy(path, None, shape[1:], dtype.name)
        return LogProbStore(path, (part,), shape[1], shape[2], dtype)
    if not path.is_dir():
        raise StoreError(f"log-probability store {str(path)!r} does not exist")
    manifest = read_manifest(path)
    sizes = expected_shards(manifest["num_rows"], manifest["shard_rows"])
    missing = [index for index in range(len(sizes)) if str(index) not in manifest["shards"]]
    if missing:
        rows = sum(sizes[index] for index in missing)
        raise StoreError(
            f"store {str(path)!r} is incomplete: {len(missing)} of {len(sizes)} shards "
            f"({rows} rows) not written yet (first: {shard_name(missing[0])}); resume the "
            "scoring job"
        )
    tail = (manifest["num_samples"], manifest["num_classes"])
    parts = tuple(
        _check_npy(path / shard_name(index), rows, tail, manifest["dtype"])
        for index, rows in enumerate(sizes)
    )
    if not parts:
        raise StoreError(f"store {str(path)!r} holds no rows")
    checksums = tuple(manifest["shards"][str(index)]["sha256"] for index in range(len(sizes)))
    return LogProbStore(path, parts, *tail, np.dtype(manifest["dtype"]), checksums)
