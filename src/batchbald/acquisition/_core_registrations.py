"""Registry entries of the core acquirers (BatchBALD paper): scores take their top-b."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from batchbald.acquisition import scores
from batchbald.acquisition._validation import check_log_probs
from batchbald.acquisition.batchbald import batchbald
from batchbald.acquisition.registry import register
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.selection import random_batch, top_k


def _top_k_of(score_fn: Callable[[Any], torch.Tensor]) -> Callable[..., AcquisitionResult]:
    def acquire(
        log_probs_N_K_C: Any, batch_size: int, *, generator: torch.Generator | None = None
    ) -> AcquisitionResult:
        return top_k(score_fn(log_probs_N_K_C), batch_size)

    acquire.__name__ = f"top_k_{score_fn.__name__}"
    acquire.__doc__ = f"Top-b of :func:`{score_fn.__name__}`; ``generator`` is unused."
    return acquire


def _random(
    pool: int | Any, batch_size: int, *, generator: torch.Generator | None = None
) -> AcquisitionResult:
    """Uniformly random batch of a pool of ``pool`` points (the loop passes N, an int, for
    ``needs_predictions=False``); given ``[N, K, C]`` log-probabilities, only N is read."""
    if not isinstance(pool, int) or isinstance(pool, bool):
        pool = check_log_probs(pool, warn_single_sample=False).shape[0]
    return random_batch(pool, batch_size, generator=generator)


register(
    "random",
    _random,
    description="uniformly random batch (baseline)",
    needs_predictions=False,
)
register("entropy", _top_k_of(scores.entropy), description="top-b predictive entropy (max-entropy)")
register("bald", _top_k_of(scores.bald), description="top-b BALD mutual information I[y; ω]")
register(
    "variation_ratios",
    _top_k_of(scores.variation_ratios),
    description="top-b variation ratios 1 - max_y p(y|x)",
)
register("mean_std", _top_k_of(scores.mean_std), description="top-b mean standard deviation")
register(
    "batchbald",
    batchbald,
    description="greedy BatchBALD: joint mutual information I[y_1..y_b; ω] (Kirsch et al. 2019)",
)
