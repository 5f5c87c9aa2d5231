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
s or −log rank), which never overflow for huge β; β = ∞ is exactly top-b. The key machinery is
in ``acquisition/_gumbel.py``; the report's baselines :func:`thompson_bald` and
:func:`uniform_top_bald` live in :mod:`batchbald.acquisition.stochastic_baselines`. Both are
re-exported here.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552.
    Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron, Gal (2023), "Stochastic Batch
    Acquisition: A Simple Baseline for Deep Active Learning", TMLR.
    Kool, van Hoof, Welling (2019), "Stochastic Beams and Where to Find Them" (Gumbel-top-k).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.acquisition._gumbel import (
    POWER_EPSILON,
    _fill_keys_numpy,  # noqa: F401  (re-exported for the tests)
    _fill_keys_torch,  # noqa: F401  (re-exported for the tests)
    gumbel_keys,
    points_at_ranks,
    top_indices,
)
from batchbald.acquisition._validation import check_batch_size, check_generator, check_scores
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.stochastic_baselines import thompson_bald, uniform_top_bald
from batchbald.errors import InvalidInputError

__all__ = [
    "POWER_EPSILON",
    "STOCHASTIC_MODES",
    "gumbel_keys",
    "points_at_ranks",
    "stochastic_batch",
    "thompson_bald",
    "uniform_top_bald",
]

STOCHASTIC_MODES = ("power", "softmax", "softrank")


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
    indices = _draw(scores, batch_size, mode, coldness, generator)
    return AcquisitionResult(indices=indices, scores=scores[indices])


def _draw(
    scores_N: torch.Tensor, batch_size: int, mode: str, coldness: float, generator: Any
) -> torch.Tensor:
    """The drawn indices ``[b]`` for checked arguments (see :func:`stochastic_batch`)."""
    if math.isinf(coldness):
        return top_indices(scores_N, batch_size)  # exactly top_k, without a full sort
    indices = top_indices(gumbel_keys(scores_N, mode, coldness, generator=generator), batch_size)
    if mode == "softrank" and coldness > 0:
        # The keys were per rank (p_r ∝ r^-β; the noise is i.i.d., so attaching it to ranks
        # instead of points changes nothing): map the drawn ranks to the points holding them.
        indices = points_at_ranks(scores_N, indices + 1)
    return indices
