"""Gumbel-top-k machinery of stochastic batch acquisition: noisy keys, the b largest, ranks.

:func:`~batchbald.acquisition.stochastic.stochastic_batch` draws b points without replacement
by taking the b largest keys ``log-weight_n + G_n / β`` (:func:`gumbel_keys`,
:func:`top_indices`); in softrank mode the keys belong to ranks, which :func:`points_at_ranks`
maps back to pool points. The public names are re-exported by
:mod:`batchbald.acquisition.stochastic`.
"""

from __future__ import annotations

import numpy as np
import torch

from batchbald.acquisition.numerics import stable_top_k

__all__ = ["POWER_EPSILON", "gumbel_keys", "points_at_ranks", "top_indices"]

# Power mode clamps non-positive scores (e.g. a negative EvaluationBALD, or BALD = 0) to this
# value: such points keep a negligible but non-zero probability, so a batch can always be filled
# (the report's "clip to 0" would leave fewer than b candidates when few scores are positive).
POWER_EPSILON = 1e-30


def gumbel_keys(
    scores_N: torch.Tensor, mode: str, coldness: float, *, generator: torch.Generator | None
) -> torch.Tensor:
    """Gumbel-top-k keys G_n / β + log-weight_n, float64 ``[N]`` on the scores' device.

    The log-weight is log max(s_n, ε) (power), s_n (softmax) or −log n (softrank: keys are per
    *rank* n, see :func:`~batchbald.acquisition.stochastic.stochastic_batch`); coldness 0 gives
    the bare noise G_n. G_n are i.i.d. Gumbel(0, 1), drawn as −log(−log U) from ``torch.rand``
    (U clamped away from 0: finite).
    """
    noise_device = generator.device if generator is not None else scores_N.device
    keys_N = torch.rand(
        scores_N.numel(), generator=generator, dtype=torch.float64, device=noise_device
    ).to(scores_N.device)
    if keys_N.device.type == "cpu":
        # numpy runs this elementwise chain on one thread; on a shared CPU that is several times
        # faster than torch's intra-op threads, which wait for each other at every op.
        _fill_keys_numpy(keys_N.numpy(), scores_N.detach().numpy(), mode, coldness)
    else:
        _fill_keys_torch(keys_N, scores_N, mode, coldness)
    return keys_N


def _fill_keys_numpy(keys: np.ndarray, scores: np.ndarray, mode: str, coldness: float) -> None:
    """In place: uniforms U -> −log(−log U) / β + log-weight (see :func:`gumbel_keys`)."""
    np.maximum(keys, np.finfo(np.float64).tiny, out=keys)
    np.log(keys, out=keys)
    np.negative(keys, out=keys)
    np.log(keys, out=keys)  # log(−log U) = −G
    keys /= -coldness if coldness > 0 else -1.0
    if coldness == 0:
        return
    if mode == "power":
        keys += np.log(np.maximum(scores, POWER_EPSILON))
    elif mode == "softmax":
        keys += scores
    else:
        keys -= np.log(np.arange(1, keys.size + 1, dtype=np.float64))


def _fill_keys_torch(
    keys_N: torch.Tensor, scores_N: torch.Tensor, mode: str, coldness: float
) -> None:
    """The same as :func:`_fill_keys_numpy` with torch ops (accelerators)."""
    keys_N.clamp_(min=torch.finfo(torch.float64).tiny).log_().neg_().log_()
    keys_N.div_(-coldness if coldness > 0 else -1.0)
    if coldness == 0:
        return
    if mode == "power":
        keys_N.add_(scores_N.clamp(min=POWER_EPSILON).log_())
    elif mode == "softmax":
        keys_N.add_(scores_N)
    else:
        ranks_N = torch.arange(1, keys_N.numel() + 1, dtype=torch.float64, device=keys_N.device)
        keys_N.sub_(ranks_N.log_())


def points_at_ranks(scores_N: torch.Tensor, ranks_b: torch.Tensor) -> torch.Tensor:
    """Pool indices holding the given 1-based ranks (rank 1 = highest score, ties by index).

    Equal to ``torch.sort(scores_N, descending=True, stable=True).indices[ranks_b - 1]``, which
    is what accelerators and pools under 2^17 points run. Large CPU pools skip the full sort:
    float64 scores are bucketed by the top 20 bits of an order-preserving integer image of their
    bits (sign, exponent, 8 mantissa bits: log-spaced buckets, suited to skewed scores) and only
    the buckets holding a requested rank are sorted. Buckets are value ranges, so equal scores
    share one and the order across buckets is the order of the values.
    """
    if scores_N.device.type != "cpu" or scores_N.numel() < 2**17:
        return torch.sort(scores_N, descending=True, stable=True).indices[ranks_b - 1]
    scores = scores_N.detach().numpy() + 0.0  # + 0.0 turns -0.0 into +0.0
    bits = scores.view(np.int64)
    # Negative floats: flip the magnitude bits so that the signed integers order like the floats.
    bucket = (np.where(bits < 0, bits ^ 0x7FFFFFFFFFFFFFFF, bits) >> 44) + 2**19  # [0, 2^20)
    counts = np.bincount(bucket, minlength=2**20)
    at_or_above = np.cumsum(counts[::-1])[::-1]  # points in bucket ≥ j (non-increasing)
    ranks = ranks_b.cpu().numpy()
    # The bucket of rank r is the last j with at_or_above[j] ≥ r.
    bucket_b = at_or_above.size - np.searchsorted(at_or_above[::-1], ranks) - 1
    needed = np.zeros(counts.size, dtype=bool)
    needed[bucket_b] = True
    members = np.flatnonzero(needed[bucket])  # index order
    members = members[np.argsort(-scores[members], kind="stable")]
    # A bucket's members form one block of ``members``; it starts after the members of the
    # needed buckets above it, and its k-th member has global rank (points above) + k + 1.
    block_start = np.searchsorted(-bucket[members], -bucket_b)
    above = at_or_above[bucket_b] - counts[bucket_b]
    return torch.from_numpy(members[block_start + ranks - above - 1]).to(ranks_b.device)


def top_indices(keys_N: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Indices of the b largest keys, ties broken by index (deterministic, unlike topk)."""
    return stable_top_k(keys_N, batch_size)
