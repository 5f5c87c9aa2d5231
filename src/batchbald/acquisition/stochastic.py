"""Stochastic batch acquisition: sample a batch from per-point scores (Gumbel-top-k).

Instead of the top-b scores, draw b points *without replacement* with probability

* ``"power"``:    p_n ∝ s_n^β            (PowerBALD, PowerEvaluationBALD),
* ``"softmax"``:  p_n ∝ exp(β s_n),
* ``"softrank"``: p_n ∝ rank_n^(-β)      (rank 1 = the highest score),

where β is the ``coldness``. The PowerEvaluationBALD report writes the exponent as α (score^α,
α = 8 in its figures); the stochastic-acquisition paper (Kirsch et al., TMLR 2023) calls it β
(β = 1 recommended). They are the same number: α = β = ``coldness``. Coldness 0 is uniformly random
acquisition; coldness → ∞ is top-b.

Gumbel-top-k trick: with G_n i.i.d. Gumbel(0, 1), the indices of the b largest keys
``log p_n + G_n`` are distributed as b successive draws without replacement from p. We use the
equivalent keys ``log-weight + G_n / β`` (dividing by β > 0 keeps the order; log-weight = log s,
s or −log rank), which never overflow for huge β; β = ∞ is exactly top-b.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552.
    Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron, Gal (2023), "Stochastic Batch
    Acquisition: A Simple Baseline for Deep Active Learning", TMLR.
    Kool, van Hoof, Welling (2019), "Stochastic Beams and Where to Find Them" (Gumbel-top-k).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from batchbald.acquisition._validation import (
    check_batch_size,
    check_generator,
    check_log_probs,
    check_scores,
)
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import bald
from batchbald.acquisition.selection import top_k
from batchbald.errors import InvalidInputError

__all__ = [
    "POWER_EPSILON",
    "STOCHASTIC_MODES",
    "gumbel_keys",
    "points_at_ranks",
    "stochastic_acquirer",
    "stochastic_batch",
    "thompson_bald",
    "uniform_top_bald",
]

STOCHASTIC_MODES = ("power", "softmax", "softrank")

# Power mode clamps non-positive scores (e.g. a negative EvaluationBALD, or BALD = 0) to this
# value: such points keep a negligible but non-zero probability, so a batch can always be filled
# (the report's "clip to 0" would leave fewer than b candidates when few scores are positive).
POWER_EPSILON = 1e-30


def check_coldness(coldness: Any) -> float:
    """``coldness`` must be a real number ≥ 0 (``math.inf`` means deterministic top-b)."""
    if isinstance(coldness, bool) or not isinstance(coldness, (int, float)):
        raise InvalidInputError(
            f"coldness must be a real number ≥ 0 (0 = uniform, inf = top-b); "
            f"got {type(coldness).__name__}"
        )
    if math.isnan(coldness) or coldness < 0:
        raise InvalidInputError(
            f"coldness must be a real number ≥ 0 (0 = uniform, inf = top-b); got {coldness!r}"
        )
    return float(coldness)


def check_mode(mode: Any) -> str:
    """``mode`` must name one of :data:`STOCHASTIC_MODES`."""
    if mode not in STOCHASTIC_MODES:
        raise InvalidInputError(
            f"mode must be one of {', '.join(repr(m) for m in STOCHASTIC_MODES)}; got {mode!r}"
        )
    return mode


def gumbel_keys(
    scores_N: torch.Tensor, mode: str, coldness: float, *, generator: torch.Generator | None
) -> torch.Tensor:
    """Gumbel-top-k keys G_n / β + log-weight_n, float64 ``[N]`` on the scores' device.

    The log-weight is log max(s_n, ε) (power), s_n (softmax) or −log n (softrank: keys are per
    *rank* n, see :func:`stochastic_batch`); coldness 0 gives the bare noise G_n. G_n are i.i.d.
    Gumbel(0, 1), drawn as −log(−log U) from ``torch.rand`` (U clamped away from 0: finite).
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


def stochastic_batch(
    scores_N: Any,
    batch_size: int,
    *,
    mode: str = "power",
    coldness: float = 1.0,
    generator: torch.Generator | None = None,
) -> AcquisitionResult:
    """Sample b distinct pool points with p ∝ s^β, e^{βs} or rank^{-β} (Gumbel-top-k).

    Args:
        scores_N: ``[N]`` finite scores (tensor or numpy array, any device). In ``"power"`` mode
            scores ≤ 0 are clamped to :data:`POWER_EPSILON` = 1e-30 (probability ≈ 0 next to any
            positive score, uniform among themselves when every score is ≤ 0).
        batch_size: b, with 1 ≤ b ≤ N.
        mode: ``"power"``, ``"softmax"`` or ``"softrank"``.
        coldness: β = α ≥ 0. 0 gives a uniformly random batch; ``math.inf`` gives exactly
            :func:`~batchbald.acquisition.selection.top_k`; large finite values approach it
            without overflow.
        generator: source of the Gumbel noise; its device is used to draw the noise.

    Returns:
        :class:`AcquisitionResult`: indices int64 ``[b]`` in draw order and the picks' original
        scores (float64).

    >>> result = stochastic_batch(torch.tensor([0.1, 0.0, 5.0]), 1, coldness=50.0,
    ...                           generator=torch.Generator().manual_seed(0))
    >>> result.indices.tolist()
    [2]
    """
    scores = check_scores(scores_N).double()
    batch_size = check_batch_size(batch_size, scores.numel())
    mode = check_mode(mode)
    coldness = check_coldness(coldness)
    generator = check_generator(generator)
    if math.isinf(coldness):
        indices = _top_indices(scores, batch_size)  # exactly top_k, without a full sort
        return AcquisitionResult(indices=indices, scores=scores[indices])
    keys_N = gumbel_keys(scores, mode, coldness, generator=generator)
    indices = _top_indices(keys_N, batch_size)
    if mode == "softrank" and coldness > 0:
        # The keys were per rank (p_r ∝ r^-β; the noise is i.i.d., so attaching it to ranks
        # instead of points changes nothing): map the drawn ranks to the points holding them.
        indices = points_at_ranks(scores, indices + 1)
    return AcquisitionResult(indices=indices, scores=scores[indices])


def _top_indices(keys_N: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Indices of the b largest keys, ties broken by index (deterministic, unlike topk)."""
    threshold = torch.topk(keys_N, batch_size, sorted=False).values.min()
    if keys_N.device.type == "cpu":  # numpy's single-threaded scan: see gumbel_keys
        candidates = torch.from_numpy(np.flatnonzero(keys_N.detach().numpy() >= threshold.item()))
    else:
        candidates = torch.nonzero(keys_N >= threshold).squeeze(1)
    order = torch.sort(keys_N[candidates], descending=True, stable=True).indices[:batch_size]
    return candidates[order]


def stochastic_acquirer(
    score_fn: Callable[..., torch.Tensor], mode: str = "power", *, uses_eval_model: bool = False
) -> Callable[..., AcquisitionResult]:
    """Turn a per-point score into a registrable stochastic acquirer.

    Args:
        score_fn: ``log_probs_N_K_C -> scores_N`` (or ``(log_probs_N_K_C,
            eval_log_probs_N_K_C) -> scores_N`` when ``uses_eval_model``).
        mode: the sampling distribution (see :func:`stochastic_batch`).
        uses_eval_model: the score also needs the evaluation model's log-probabilities.

    Returns:
        ``acquire(log_probs_N_K_C, batch_size, *, generator=None, coldness=1.0
        [, eval_log_probs_N_K_C])`` returning an :class:`AcquisitionResult`.
    """
    mode = check_mode(mode)
    if uses_eval_model:

        def acquire(
            log_probs_N_K_C: Any,
            batch_size: int,
            *,
            generator: torch.Generator | None = None,
            eval_log_probs_N_K_C: Any = None,
            coldness: float = 1.0,
        ) -> AcquisitionResult:
            scores_N = score_fn(log_probs_N_K_C, eval_log_probs_N_K_C)
            return stochastic_batch(
                scores_N, batch_size, mode=mode, coldness=coldness, generator=generator
            )

    else:

        def acquire(
            log_probs_N_K_C: Any,
            batch_size: int,
            *,
            generator: torch.Generator | None = None,
            coldness: float = 1.0,
        ) -> AcquisitionResult:
            scores_N = score_fn(log_probs_N_K_C)
            return stochastic_batch(
                scores_N, batch_size, mode=mode, coldness=coldness, generator=generator
            )

    acquire.__name__ = f"{mode}_{getattr(score_fn, '__name__', 'score')}"
    acquire.__doc__ = (
        f"Sample b points with {mode} weights of :func:`{acquire.__name__[len(mode) + 1 :]}` "
        "(see :func:`batchbald.acquisition.stochastic.stochastic_batch`)."
    )
    return acquire


def thompson_bald(
    log_probs_N_K_C: Any, batch_size: int, *, generator: torch.Generator | None = None
) -> AcquisitionResult:
    """ThompsonBALD (PowerEvaluationBALD report baseline): one posterior sample per pick.

    Draw b distinct posterior samples ω_{k_1}, ..., ω_{k_b} uniformly without replacement from
    the K samples (``torch.randperm(K, generator=generator)[:b]``). The i-th pick is

        argmax_{n not yet picked}  H[y|x_n] − H[y|x_n, ω_{k_i}],

    i.e. BALD with its expected conditional entropy E_ω H[y|x, ω] replaced by the entropy under
    the single sample ω_{k_i}; H[y|x_n] is the predictive entropy of the full K-sample average.
    The score can be negative. Ties go to the lower index.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities, with K ≥ b.
        batch_size: b, 1 ≤ b ≤ N.
        generator: draws the posterior-sample order.

    Returns:
        :class:`AcquisitionResult` whose scores are each pick's Thompson score (float64).

    Raises:
        InvalidInputError: K < b (fewer posterior samples than picks), or bad input.
    """
    log_probs = check_log_probs(log_probs_N_K_C).double()
    num_points, num_samples, _ = log_probs.shape
    batch_size = check_batch_size(batch_size, num_points)
    generator = check_generator(generator)
    if num_samples < batch_size:
        raise InvalidInputError(
            f"thompson_bald needs at least batch_size posterior samples (K ≥ b) to use a distinct "
            f"sample per pick; got K = {num_samples} and batch_size = {batch_size}. Draw more MC "
            "samples or use a smaller batch."
        )
    predictive_N = _entropy(torch.logsumexp(log_probs, dim=1) - math.log(num_samples))
    sample_entropy_N_K = _entropy(log_probs)
    sample_order = torch.randperm(num_samples, generator=generator)[:batch_size]
    available_N = torch.ones(num_points, dtype=torch.bool, device=log_probs.device)
    indices, picked_scores = [], []
    for sample in sample_order.tolist():
        thompson_N = predictive_N - sample_entropy_N_K[:, sample]
        thompson_N = torch.where(available_N, thompson_N, -math.inf)
        index = int(torch.argmax(thompson_N))  # the first maximum: ties go to the lower index
        available_N[index] = False
        indices.append(index)
        picked_scores.append(thompson_N[index])
    return AcquisitionResult(
        indices=torch.tensor(indices, dtype=torch.int64, device=log_probs.device),
        scores=torch.stack(picked_scores),
    )


def uniform_top_bald(
    log_probs_N_K_C: Any, batch_size: int, *, generator: torch.Generator | None = None
) -> AcquisitionResult:
    """UniformTopBALD (report baseline): b points uniformly from the top min(b·C, N) BALD scores.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities.
        batch_size: b, 1 ≤ b ≤ N.
        generator: draws the uniform subset.

    Returns:
        :class:`AcquisitionResult` with the picks' BALD scores (float64).
    """
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    num_points, _, num_classes = log_probs.shape
    bald_N = bald(log_probs)
    batch_size = check_batch_size(batch_size, num_points)
    generator = check_generator(generator)
    top = top_k(bald_N, min(batch_size * num_classes, num_points)).indices
    chosen = top[torch.randperm(top.numel(), generator=generator)[:batch_size].to(top.device)]
    return AcquisitionResult(indices=chosen, scores=bald_N[chosen])


def _entropy(log_probs: torch.Tensor) -> torch.Tensor:
    """-Σ_c p log p over the last axis; p = 0 contributes 0."""
    probs = log_probs.exp()
    return -torch.where(probs > 0, probs * log_probs, torch.zeros_like(probs)).sum(-1)
