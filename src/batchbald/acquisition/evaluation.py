"""Evaluation-oriented acquisition: EIG and EvaluationBALD, per point and greedy batch.

Two sets of log-probabilities describe the same pool: ``log_probs_N_K_C`` from the model trained
on D_train and ``eval_log_probs_N_K_C`` from the *evaluation model*, trained on D_train ∪ D_eval
(in the report by self-distillation on the pool). A point is worth labelling when the evaluation
model's uncertainty about it is lower than the training model's: the label is expected to carry
information that matters for the evaluation distribution.

This module holds the per-point scores; their greedy batch versions :func:`batch_eig` and
:func:`batch_evaluation_bald` live in :mod:`batchbald.acquisition.batch_evaluation` and are
re-exported here.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552 (the report).
    The maths is written out in ``docs/acquisition_report.md``.
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._validation import check_pair
from batchbald.acquisition.batch_evaluation import batch_eig, batch_evaluation_bald
from batchbald.acquisition.scores import bald, entropy

__all__ = ["batch_eig", "batch_evaluation_bald", "eig", "evaluation_bald"]


def eig(log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any) -> torch.Tensor:
    """Expected information gain for the evaluation set: H[y|x, D_train] − H[y|x, D_train ∪ D_eval].

    Both terms are predictive entropies (of the K-sample average), so point-estimate models
    (K = 1) are fine here and no :class:`~batchbald.errors.SingleSampleWarning` is raised.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the training model.
        eval_log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the evaluation model, same shape.

    Returns:
        float64 ``[N]`` in [−log C, log C]; negative where the evaluation model is less certain.

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    return entropy(log_probs) - entropy(eval_log_probs)


def evaluation_bald(log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any) -> torch.Tensor:
    """EvaluationBALD: BALD under the training model minus BALD under the evaluation model.

    ``I[y; ω | x, D_train] − I[y; ω | x, D_train ∪ D_eval]``. It can be negative: points whose
    label the evaluation model is *more* uncertain about in parameter space than the training
    model (they contradict the evaluation set). :func:`~batchbald.acquisition.selection.top_k`
    and :func:`~batchbald.acquisition.stochastic.stochastic_batch` accept negative scores.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the training model.
        eval_log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the evaluation model, same shape.
            K = 1 warns: both BALD terms are then 0.

    Returns:
        float64 ``[N]`` in [−log C, log C].

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """
    # bald() itself warns (SingleSampleWarning) when K = 1.
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    return bald(log_probs) - bald(eval_log_probs)
