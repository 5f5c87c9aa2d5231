"""Registry entries of the PowerEvaluationBALD report and the stochastic-acquisition paper.

Stochastic acquirers take ``coldness`` (α in the report, β in the TMLR paper; default 1.0, the
report's figures use 8). Acquirers with ``needs_eval_model=True`` also receive
``eval_log_probs_N_K_C`` from the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from batchbald.acquisition import evaluation, scores
from batchbald.acquisition.batchbald import DEFAULT_MAX_MEMORY_BYTES
from batchbald.acquisition.registry import register
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.selection import top_k
from batchbald.acquisition.stochastic import (
    stochastic_acquirer,
    stochastic_batch,
    thompson_bald,
    uniform_top_bald,
)
from batchbald.errors import InvalidInputError

# Per-point scores usable with any stochastic mode by name (the generic acquirers below).
POINT_SCORES: dict[str, Callable[..., torch.Tensor]] = {
    "bald": scores.bald,
    "entropy": scores.entropy,
    "mean_std": scores.mean_std,
    "variation_ratios": scores.variation_ratios,
}
EVALUATION_SCORES: dict[str, Callable[..., torch.Tensor]] = {
    "eig": evaluation.eig,
    "evaluation_bald": evaluation.evaluation_bald,
}


def _lookup(
    table: dict[str, Callable[..., torch.Tensor]], score: Any
) -> Callable[..., torch.Tensor]:
    if score not in table:
        raise InvalidInputError(
            f"score must be one of {', '.join(repr(name) for name in sorted(table))}; got {score!r}"
        )
    return table[score]


def _stochastic(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    score: str = "bald",
    mode: str = "power",
    coldness: float = 1.0,
) -> AcquisitionResult:
    """Sample b points from any per-point score (``score``) with any ``mode``."""
    scores_N = _lookup(POINT_SCORES, score)(log_probs_N_K_C)
    return stochastic_batch(scores_N, batch_size, mode=mode, coldness=coldness, generator=generator)


def _stochastic_evaluation(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    eval_log_probs_N_K_C: Any = None,
    score: str = "evaluation_bald",
    mode: str = "power",
    coldness: float = 1.0,
) -> AcquisitionResult:
    """Sample b points from an evaluation-oriented score (``eig``/``evaluation_bald``)."""
    scores_N = _lookup(EVALUATION_SCORES, score)(log_probs_N_K_C, eval_log_probs_N_K_C)
    return stochastic_batch(scores_N, batch_size, mode=mode, coldness=coldness, generator=generator)


def _top_k_evaluation(
    score_fn: Callable[[Any, Any], torch.Tensor],
) -> Callable[..., AcquisitionResult]:
    def acquire(
        log_probs_N_K_C: Any,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        eval_log_probs_N_K_C: Any = None,
    ) -> AcquisitionResult:
        return top_k(score_fn(log_probs_N_K_C, eval_log_probs_N_K_C), batch_size)

    acquire.__name__ = f"top_k_{score_fn.__name__}"
    acquire.__doc__ = f"Top-b of :func:`{score_fn.__name__}`; ``generator`` is unused."
    return acquire


def _greedy_evaluation(
    batch_fn: Callable[..., AcquisitionResult],
) -> Callable[..., AcquisitionResult]:
    def acquire(
        log_probs_N_K_C: Any,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        eval_log_probs_N_K_C: Any = None,
        num_samples: int = 10_000,
        dtype: torch.dtype = torch.float64,
        max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
        lazy: bool = True,
    ) -> AcquisitionResult:
        return batch_fn(
            log_probs_N_K_C,
            eval_log_probs_N_K_C,
            batch_size,
            num_samples=num_samples,
            generator=generator,
            dtype=dtype,
            max_memory_bytes=max_memory_bytes,
            lazy=lazy,
        )

    acquire.__name__ = batch_fn.__name__
    acquire.__doc__ = f"Registry form of :func:`{batch_fn.__name__}` (eval log-probs by keyword)."
    return acquire


for _mode in ("power", "softmax", "softrank"):
    register(
        f"{_mode}_bald",
        stochastic_acquirer(scores.bald, _mode),
        description=f"sample b points with {_mode} weights of BALD (stochastic batch acquisition)",
        coldness=1.0,
    )
register(
    "power_entropy",
    stochastic_acquirer(scores.entropy, "power"),
    description="sample b points with p ∝ entropy^coldness (stochastic max-entropy)",
    coldness=1.0,
)
register(
    "stochastic",
    _stochastic,
    description="sample b points from a per-point score (score=, mode=, coldness=)",
    score="bald",
    mode="power",
    coldness=1.0,
)
register(
    "thompson_bald",
    thompson_bald,
    description="ThompsonBALD: pick i maximises BALD with a single posterior sample ω_i",
)
register(
    "uniform_top_bald",
    uniform_top_bald,
    description="b points uniformly from the top b·C BALD scores (report baseline)",
)

# Acquirers that also receive the evaluation model's log-probabilities (needs_eval_model=True):
# name, function, description, default parameters.
_EVALUATION_ACQUIRERS: tuple[tuple[str, Callable[..., AcquisitionResult], str, dict], ...] = (
    (
        "power_eig",
        stochastic_acquirer(evaluation.eig, "power", uses_eval_model=True),
        "sample b points with p ∝ EIG^coldness (evaluation information gain)",
        {"coldness": 1.0},
    ),
    (
        "power_evaluation_bald",
        stochastic_acquirer(evaluation.evaluation_bald, "power", uses_eval_model=True),
        "PowerEvaluationBALD: sample b points with p ∝ EvaluationBALD^coldness",
        {"coldness": 1.0},
    ),
    (
        "stochastic_evaluation",
        _stochastic_evaluation,
        "sample b points from an evaluation score (score=eig|evaluation_bald, mode=)",
        {"score": "evaluation_bald", "mode": "power", "coldness": 1.0},
    ),
    (
        "eig",
        _top_k_evaluation(evaluation.eig),
        "top-b EIG: predictive entropy under the training minus the evaluation model",
        {},
    ),
    (
        "evaluation_bald",
        _top_k_evaluation(evaluation.evaluation_bald),
        "top-b EvaluationBALD: BALD(training model) - BALD(evaluation model)",
        {},
    ),
    (
        "batch_eig",
        _greedy_evaluation(evaluation.batch_eig),
        "greedy BatchEIG: joint predictive entropy, training minus evaluation model",
        {},
    ),
    (
        "batch_evaluation_bald",
        _greedy_evaluation(evaluation.batch_evaluation_bald),
        "greedy BatchEvaluationBALD: BatchBALD(training) - BatchBALD(evaluation model)",
        {},
    ),
)
for _name, _fn, _description, _defaults in _EVALUATION_ACQUIRERS:
    register(_name, _fn, description=_description, needs_eval_model=True, **_defaults)
