"""Baselines of the PowerEvaluationBALD report: ThompsonBALD and UniformTopBALD.

Both draw their randomness from an explicit ``generator``; they are registered as
``thompson_bald`` and ``uniform_top_bald`` and re-exported by
:mod:`batchbald.acquisition.stochastic`.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.acquisition._validation import check_batch_size, check_generator, check_log_probs
from batchbald.acquisition.numerics import plogp_sums
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import bald
from batchbald.acquisition.selection import top_k
from batchbald.errors import InvalidInputError

__all__ = ["thompson_bald", "uniform_top_bald"]


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
    num_points, num_posterior_samples, _ = log_probs.shape
    batch_size = check_batch_size(batch_size, num_points)
    generator = check_generator(generator)
    _check_enough_samples(num_posterior_samples, batch_size)
    predictive_N = _entropy(torch.logsumexp(log_probs, dim=1) - math.log(num_posterior_samples))
    sample_entropy_N_K = _entropy(log_probs)
    sample_order = torch.randperm(num_posterior_samples, generator=generator)[:batch_size]
    return _thompson_picks(predictive_N, sample_entropy_N_K, sample_order.tolist())


def _thompson_picks(
    predictive_N: torch.Tensor, sample_entropy_N_K: torch.Tensor, samples: list[int]
) -> AcquisitionResult:
    """The i-th pick maximises H[y|x] − H[y|x, ω_{samples[i]}] over the points not yet picked."""
    available_N = torch.ones(len(predictive_N), dtype=torch.bool, device=predictive_N.device)
    indices, picked_scores = [], []
    for sample in samples:
        thompson_N = predictive_N - sample_entropy_N_K[:, sample]
        thompson_N = torch.where(available_N, thompson_N, -math.inf)
        index = int(torch.argmax(thompson_N))  # the first maximum: ties go to the lower index
        available_N[index] = False
        indices.append(index)
        picked_scores.append(thompson_N[index])
    return AcquisitionResult(
        indices=torch.tensor(indices, dtype=torch.int64, device=predictive_N.device),
        scores=torch.stack(picked_scores),
    )


def _check_enough_samples(num_posterior_samples: int, batch_size: int) -> None:
    if num_posterior_samples < batch_size:
        raise InvalidInputError(
            f"thompson_bald needs at least batch_size posterior samples (K ≥ b) to use a distinct "
            f"sample per pick; got K = {num_posterior_samples} and batch_size = {batch_size}. "
            "Draw more MC samples or use a smaller batch."
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
    """-Σ_c p log p over the last axis (p = 0 contributes 0), float64."""
    rows_R_C = log_probs.reshape(-1, log_probs.shape[-1])
    return -plogp_sums(rows_R_C, rows_R_C.exp()).view(log_probs.shape[:-1])
