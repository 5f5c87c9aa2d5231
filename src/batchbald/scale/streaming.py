"""Per-point acquisition over a store larger than memory: one streaming pass, memory O(chunk + b).

Every function here gives exactly what the in-memory rule gives on the whole tensor
(``top_k(bald(log_probs), b)``, ``stochastic_batch(bald(log_probs), b, mode=..., generator=g)``):

* the scores are the library's own per-point functions applied to slices of the pool; they are
  row-wise, so a slice's scores are the rows of the whole pool's scores;
* top-b keeps a running best b under the order (score descending, index ascending), which is
  :func:`~batchbald.acquisition.top_k`'s order, so merging slices changes nothing;
* the stochastic rules draw their Gumbel noise with :func:`~batchbald.acquisition.stochastic.
  gumbel_keys` slice after slice from the same generator. ``torch.rand`` on a CPU generator
  yields the same numbers whether drawn at once or in consecutive pieces (tested in
  ``tests/scale/test_streaming.py``), and the keys are elementwise, so every point gets the key
  it gets in memory. Softrank's keys belong to ranks 1..N; the drawn ranks are mapped to points
  by :func:`points_at_ranks_streamed` over the scores spilled to a scratch file.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from batchbald.acquisition import (
    AcquisitionResult,
    bald,
    conditional_entropy,
    entropy,
    mean_std,
    variation_ratios,
)
from batchbald.acquisition.stochastic import check_coldness, check_mode, gumbel_keys
from batchbald.errors import InvalidInputError
from batchbald.scale.store import LogProbStore

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "POINT_SCORES",
    "check_batch_size",
    "points_at_ranks_streamed",
    "slice_rows",
    "stream_scores",
    "streamed_stochastic",
    "streamed_top_k",
]

POINT_SCORES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "bald": bald,
    "entropy": entropy,
    "conditional_entropy": conditional_entropy,
    "variation_ratios": variation_ratios,
    "mean_std": mean_std,
}
# Rows per slice: 2^16 rows of K = 20, C = 10 float32 is 52 MB.
DEFAULT_CHUNK_ROWS = 2**16
# And at most this many elements (rows · K · C) per slice, whatever chunk_rows says, so the
# score functions' temporaries stay bounded when K · C is large (C = 100: 6,553 rows).
CHUNK_ELEMENTS = DEFAULT_CHUNK_ROWS * 200


def slice_rows(store: LogProbStore, chunk_rows: int) -> int:
    """Rows per slice: ``chunk_rows``, capped at :data:`CHUNK_ELEMENTS` elements (≥ 1 row)."""
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInputError(f"chunk_rows must be an int ≥ 1; got {chunk_rows!r}")
    return min(chunk_rows, max(1, CHUNK_ELEMENTS // (store.shape[1] * store.shape[2])))


def check_batch_size(batch_size: object, num_rows: int) -> int:
    """``batch_size`` must be an int in [1, N]."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InvalidInputError(f"batch_size must be an int; got {type(batch_size).__name__}")
    if not 1 <= batch_size <= num_rows:
        raise InvalidInputError(f"batch_size must be in [1, {num_rows}] (N); got {batch_size}")
    return batch_size


def stream_scores(
    store: LogProbStore, score: str, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, scores_n)`` slice by slice: the named per-point score, float64.

    Raises:
        InvalidInputError: unknown ``score`` (lists the valid names), or bad log-probabilities.
    """
    if score not in POINT_SCORES:
        raise InvalidInputError(
            f"score must be one of {', '.join(sorted(POINT_SCORES))}; got {score!r}"
        )
    score_fn = POINT_SCORES[score]
    for start, log_probs_n_K_C in store.chunks(slice_rows(store, chunk_rows)):
        scores_n = score_fn(log_probs_n_K_C)
        if not bool(torch.isfinite(scores_n).all()):
            raise InvalidInputError(f"{score} scores of rows {start}.. are not all finite")
        yield start, scores_n


class RunningTop:
    """The b best (key descending, index ascending) of everything pushed, with a payload."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.keys = np.empty(0, dtype=np.float64)
        self.indices = np.empty(0, dtype=np.int64)
        self.payload = np.empty(0, dtype=np.float64)

    def push(self, keys_n: np.ndarray, start: int, payload_n: np.ndarray) -> None:
        """Offer ``keys_n`` of rows ``start, start + 1, ...``."""
        if len(keys_n) > self.size:  # keep only the slice's contenders
            threshold = np.partition(keys_n, len(keys_n) - self.size)[len(keys_n) - self.size]
            keep = np.flatnonzero(keys_n >= threshold)
        else:
            keep = np.arange(len(keys_n))
        keys = np.concatenate([self.keys, keys_n[keep]])
        indices = np.concatenate([self.indices, keep + start])
        payload = np.concatenate([self.payload, payload_n[keep]])
        order = np.lexsort((indices, -keys))[: self.size]
        self.keys, self.indices, self.payload = keys[order], indices[order], payload[order]


def streamed_top_k(
    store: LogProbStore, score: str, batch_size: int, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> AcquisitionResult:
    """Top-b of a per-point score over the store: ``top_k(score(log_probs), b)`` in one pass."""
    batch_size = check_batch_size(batch_size, store.shape[0])
    top = RunningTop(batch_size)
    for start, scores_n in stream_scores(store, score, chunk_rows=chunk_rows):
        values = scores_n.numpy()
        top.push(values, start, values)
    return _result(top.indices, top.payload)


def _result(indices: np.ndarray, scores: np.ndarray) -> AcquisitionResult:
    return AcquisitionResult(
        indices=torch.from_numpy(np.ascontiguousarray(indices, dtype=np.int64)),
        scores=torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float64)),
    )


def streamed_stochastic(
    store: LogProbStore,
    score: str,
    batch_size: int,
    *,
    mode: str = "power",
    coldness: float = 1.0,
    generator: torch.Generator | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    scratch_dir: str | Path | None = None,
) -> AcquisitionResult:
    """``stochastic_batch(score(log_probs), b, ...)`` in one pass: picks in draw order, scores.

    Args:
        store: the pool's log-probabilities.
        score: a name in :data:`POINT_SCORES`.
        batch_size: b, 1 ≤ b ≤ N.
        mode: ``"power"``, ``"softmax"`` or ``"softrank"``.
        coldness: β ≥ 0 (``math.inf``: top-b).
        generator: CPU generator of the Gumbel noise (the same draws as in memory).
        chunk_rows: rows per slice; the result does not depend on it.
        scratch_dir: where softrank spills the N float64 scores (default: the system temp dir).
    """
    batch_size, mode = check_batch_size(batch_size, store.shape[0]), check_mode(mode)
    if math.isinf(coldness := check_coldness(coldness)):
        return streamed_top_k(store, score, batch_size, chunk_rows=chunk_rows)
    ranked, top = mode == "softrank" and coldness > 0, RunningTop(batch_size)
    with tempfile.TemporaryDirectory(dir=scratch_dir) as scratch:
        spilled = _spill_file(Path(scratch), store.shape[0]) if ranked else None
        for start, scores_n in stream_scores(store, score, chunk_rows=chunk_rows):
            if spilled is not None:
                spilled[start : start + len(scores_n)] = scores_n.numpy()
            top.push(
                _keys(scores_n, start, mode, coldness, generator).numpy(), start, scores_n.numpy()
            )
        if not ranked:
            return _result(top.indices, top.payload)
        points = points_at_ranks_streamed(spilled, top.indices + 1, chunk_rows=chunk_rows)
        return _result(points, np.asarray(spilled[points]))


def _spill_file(directory: Path, num_rows: int) -> np.ndarray:
    """A float64 ``[N]`` memory-mapped scratch array for the scores (softrank's ranks)."""
    path = directory / "scores.npy"
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(num_rows,))


def _keys(
    scores_n: torch.Tensor,
    start: int,
    mode: str,
    coldness: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Gumbel keys of rows (or, in softrank mode, ranks) ``start, start + 1, ...``."""
    if mode != "softrank":
        return gumbel_keys(scores_n, mode, coldness, generator=generator)
    # Softrank keys are G_r/β - log r for ranks r; softmax keys of -log r are the same numbers
    # (x - y and x + (-y) round identically).
    ranks_n = torch.arange(start + 1, start + len(scores_n) + 1, dtype=torch.float64)
    return gumbel_keys(-torch.log(ranks_n), "softmax", coldness, generator=generator)


def _buckets(scores_n: np.ndarray) -> np.ndarray:
    """Order-preserving buckets [0, 2^20) of float64 scores (sign, exponent, 8 mantissa bits)."""
    bits = (scores_n + 0.0).view(np.int64)  # + 0.0 turns -0.0 into +0.0
    return (np.where(bits < 0, bits ^ 0x7FFFFFFFFFFFFFFF, bits) >> 44) + 2**19


def points_at_ranks_streamed(
    scores_N: np.ndarray, ranks_b: np.ndarray, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """Points holding 1-based ``ranks_b`` (score descending, index ascending) in two passes.

    Equal to ``np.lexsort((arange(N), -scores))[ranks_b - 1]`` with memory O(2^20 + bucket
    members): pass 1 counts points per value bucket; pass 2 gathers the members of the buckets
    that hold a requested rank; each bucket is sorted alone.
    """
    num_rows = len(scores_N)
    counts = np.zeros(2**20, dtype=np.int64)
    for start in range(0, num_rows, chunk_rows):
        chunk = np.asarray(scores_N[start : start + chunk_rows])
        counts += np.bincount(_buckets(chunk), minlength=2**20)
    above = np.cumsum(counts[::-1])[::-1] - counts  # points in buckets strictly higher
    # The bucket of rank r is the highest j with above[j] < r ≤ above[j] + counts[j].
    bucket_b = np.array([_bucket_of(rank, above, counts) for rank in np.asarray(ranks_b)])
    needed = np.zeros(2**20, dtype=bool)
    needed[bucket_b] = True
    members, values = [], []
    for start in range(0, num_rows, chunk_rows):
        chunk = np.asarray(scores_N[start : start + chunk_rows])
        hit = np.flatnonzero(needed[_buckets(chunk)])
        members.append(hit + start)
        values.append(chunk[hit])
    index, value = np.concatenate(members), np.concatenate(values)
    bucket = _buckets(value)
    points = np.empty(len(bucket_b), dtype=np.int64)
    sorted_members: dict[int, np.ndarray] = {}
    for position, (rank, target) in enumerate(zip(np.asarray(ranks_b), bucket_b, strict=True)):
        if target not in sorted_members:
            inside = np.flatnonzero(bucket == target)
            sorted_members[target] = index[inside[np.lexsort((index[inside], -value[inside]))]]
        points[position] = sorted_members[target][rank - above[target] - 1]
    return points


def _bucket_of(rank: int, above: np.ndarray, counts: np.ndarray) -> int:
    # Buckets in decreasing value order are 2^20 - 1, ..., 0; ``above`` grows as j falls.
    candidates = np.flatnonzero((above < rank) & (rank <= above + counts))
    return int(candidates[0])
