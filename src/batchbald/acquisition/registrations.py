"""Every registered acquirer, with its declared hyperparameters (the registry's one table).

Kinds of entry (papers: BatchBALD, Kirsch et al. NeurIPS 2019; PowerEvaluationBALD report,
Kirsch & Gal 2021, arXiv:2101.03552; stochastic batch acquisition, Kirsch et al. TMLR 2023):

* top-b of a per-point score (``bald``, ``entropy``, ..., ``eig``, ``evaluation_bald``);
* ``<mode>_<score>``: b points sampled from a per-point score with power, softmax or softrank
  weights (``power_bald``, ``softmax_bald``, ``power_evaluation_bald``, ...), taking
  ``coldness`` (α in the report, β in the TMLR paper);
* greedy batch rules (``batchbald``, ``batch_eig``, ``batch_evaluation_bald``) taking the
  shared :data:`GREEDY_PARAMS`;
* ``random``, ``thompson_bald`` and ``uniform_top_bald``.

Each name is one method: no entry is another entry with some parameters fixed.

Adding an acquirer is one ``register`` call at the end of this module (or one row in a table
below). Write ``fn(log_probs_N_K_C, batch_size, *, generator, **params)`` (with
``eval_log_probs_N_K_C`` as the second positional argument and ``needs_eval_model=True`` if it
needs an evaluation model), returning an ``AcquisitionResult``, and declare every keyword
hyperparameter::

    register(
        "epig",
        epig,
        description="top-b EPIG: expected predictive information gain on target inputs",
        params=(Param("num_targets", int, 100, "target inputs sampled", low=1),),
    )

A per-point score ``score_fn(log_probs_N_K_C) -> scores_N`` becomes an acquirer with
:func:`score_acquirer`. The registry suite (``tests/acquisition/test_registry_suite.py``) then
checks the new entry with no further code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from batchbald.acquisition import evaluation, scores
from batchbald.acquisition._validation import check_log_probs
from batchbald.acquisition.badge import badge
from batchbald.acquisition.baseline_acquirers import (
    BATCH_EPIG_PARAMS,
    EPIG_PARAMS,
    POWER_EPIG_PARAMS,
    batch_epig_acquirer,
    epig_acquirer,
    power_epig_acquirer,
)
from batchbald.acquisition.batchbald import batchbald as _batchbald
from batchbald.acquisition.coreset import coreset
from batchbald.acquisition.params import COLDNESS, GREEDY_PARAMS
from batchbald.acquisition.registry import register
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.selection import random_batch, top_k
from batchbald.acquisition.stochastic import STOCHASTIC_MODES, stochastic_batch
from batchbald.acquisition.stochastic_baselines import thompson_bald, uniform_top_bald

__all__ = [
    "batch_eig",
    "batch_evaluation_bald",
    "batchbald",
    "random_acquirer",
    "score_acquirer",
]


def score_acquirer(
    score_fn: Callable[..., torch.Tensor],
    mode: str | None = None,
    *,
    uses_eval_model: bool = False,
) -> Callable[..., AcquisitionResult]:
    """Turn a per-point score into a registrable acquirer: its top-b, or b points sampled.

    Args:
        score_fn: ``log_probs_N_K_C -> scores_N``, or ``(log_probs_N_K_C,
            eval_log_probs_N_K_C) -> scores_N`` when ``uses_eval_model``.
        mode: None for the top-b scores; ``"power"``, ``"softmax"`` or ``"softrank"`` to sample
            with :func:`~batchbald.acquisition.stochastic.stochastic_batch` (then the acquirer
            takes ``coldness``, default 1.0).
        uses_eval_model: the score also needs the evaluation model's log-probabilities.

    Returns:
        ``acquire(log_probs_N_K_C, [eval_log_probs_N_K_C,] batch_size, *, generator=None,
        [coldness=1.0])`` returning an :class:`AcquisitionResult`.
    """

    def acquire(log_probs_N_K_C: Any, *args: Any, generator: Any = None, **params: Any) -> Any:
        if uses_eval_model:  # args: (eval_log_probs_N_K_C, batch_size)
            eval_log_probs_N_K_C, batch_size = args
            scores_N = score_fn(log_probs_N_K_C, eval_log_probs_N_K_C)
        else:  # args: (batch_size,)
            (batch_size,) = args
            scores_N = score_fn(log_probs_N_K_C)
        if mode is None:
            return top_k(scores_N, batch_size, **params)  # any params: a TypeError
        return stochastic_batch(scores_N, batch_size, mode=mode, generator=generator, **params)

    score_name = getattr(score_fn, "__name__", "score")
    acquire.__name__ = f"{mode or 'top_k'}_{score_name}"
    acquire.__doc__ = f"{'Top-b' if mode is None else mode} of :func:`{score_name}`."
    return acquire


def random_acquirer(
    log_probs_N_K_C: Any, batch_size: int, *, generator: torch.Generator | None = None
) -> AcquisitionResult:
    """Uniformly random batch. Reads only N: pass the pool size N (an int) or log-probs."""
    if isinstance(log_probs_N_K_C, int) and not isinstance(log_probs_N_K_C, bool):
        pool_size = log_probs_N_K_C
    else:
        pool_size = check_log_probs(log_probs_N_K_C, warn_single_sample=False).shape[0]
    return random_batch(pool_size, batch_size, generator=generator)


# Per-point scores: name → (score function, needs an evaluation model, what it measures).
_SCORES: dict[str, tuple[Callable[..., torch.Tensor], bool, str]] = {
    "bald": (scores.bald, False, "BALD mutual information I[y; ω]"),
    "entropy": (scores.entropy, False, "predictive entropy (max-entropy)"),
    "variation_ratios": (scores.variation_ratios, False, "variation ratios 1 - max_y p(y|x)"),
    "mean_std": (scores.mean_std, False, "mean standard deviation"),
    "eig": (evaluation.eig, True, "EIG: entropy under the training minus the evaluation model"),
    "evaluation_bald": (
        evaluation.evaluation_bald,
        True,
        "EvaluationBALD: BALD(training model) - BALD(evaluation model)",
    ),
}
_WEIGHTS = {
    "power": "p ∝ s^coldness",
    "softmax": "p ∝ exp(coldness·s)",
    "softrank": "p ∝ rank^-coldness",
}

for _name, (_fn, _eval, _what) in _SCORES.items():
    register(
        _name,
        score_acquirer(_fn, uses_eval_model=_eval),
        description=f"top-b {_what}",
        needs_eval_model=_eval,
    )
    for _mode in STOCHASTIC_MODES:
        register(
            f"{_mode}_{_name}",
            score_acquirer(_fn, _mode, uses_eval_model=_eval),
            description=f"sample b points, {_WEIGHTS[_mode]}, s = {_name} (stochastic acquisition)",
            params=(COLDNESS,),
            needs_eval_model=_eval,
        )

# The greedy rules check their options against GREEDY_PARAMS themselves (GreedyOptions.checked).
batchbald = _batchbald
batch_eig = evaluation.batch_eig
batch_evaluation_bald = evaluation.batch_evaluation_bald
register(
    "batchbald",
    batchbald,
    description="greedy BatchBALD: joint mutual information I[y_1..y_b; ω] (Kirsch et al. 2019)",
    params=GREEDY_PARAMS,
)
register(
    "batch_eig",
    batch_eig,
    description="greedy BatchEIG: joint predictive entropy, training minus evaluation model",
    params=GREEDY_PARAMS,
    needs_eval_model=True,
)
register(
    "batch_evaluation_bald",
    batch_evaluation_bald,
    description="greedy BatchEvaluationBALD: BatchBALD(training) - BatchBALD(evaluation model)",
    params=GREEDY_PARAMS,
    needs_eval_model=True,
)
register(
    "random",
    random_acquirer,
    description="uniformly random batch (baseline)",
    needs_predictions=False,
)
register(
    "thompson_bald",
    thompson_bald,
    description="ThompsonBALD: pick i maximises BALD with a single posterior sample ω_i",
    batch_at_most_k=True,
)
register(
    "uniform_top_bald",
    uniform_top_bald,
    description="b points uniformly from the top b·C BALD scores (report baseline)",
)

# The field's baselines (issue 24; docs/baselines.md). BADGE and coreset need the model's
# penultimate features; coreset ignores predictions, so the loop passes it the pool size.
register(
    "epig",
    epig_acquirer,
    description="top-b EPIG: information about predictions on target inputs (Bickford Smith 2023)",
    params=EPIG_PARAMS,
    uses_targets=True,
)
register(
    "power_epig",
    power_epig_acquirer,
    description="PowerEPIG: sample b points with p ∝ EPIG^coldness",
    params=POWER_EPIG_PARAMS,
    uses_targets=True,
)
register(
    "batch_epig",
    batch_epig_acquirer,
    description="greedy BatchEPIG: I[y_1..y_b; y*] averaged over targets (small pools only)",
    params=BATCH_EPIG_PARAMS,
    uses_targets=True,
)
register(
    "badge",
    badge,
    description="BADGE: k-means++ seeding of last-layer gradient embeddings (Ash et al. 2020)",
    needs_embeddings=True,
)
register(
    "coreset",
    coreset,
    description="k-center greedy core-set on penultimate features (Sener & Savarese 2018)",
    needs_predictions=False,
    needs_embeddings=True,
)
