"""Per-point acquisition scores ``log_probs_N_K_C -> scores_N`` (float64).

Notation: N pool points, K posterior samples ω_k (e.g. MC dropout masks), C classes.
Every function validates its input, computes in float64 over bounded slices of the pool (memory
does not grow with N beyond the output) and returns a tensor on the input's device.
Probabilities of exactly 0 (log-prob -inf) contribute 0 to entropies, never NaN.

References:
    Houlsby et al. (2011), "Bayesian Active Learning for Classification and Preference Learning".
    Gal, Islam, Ghahramani (2017), "Deep Bayesian Active Learning with Image Data".
    Kirsch, van Amersfoort, Gal (2019), "BatchBALD", eq. (2).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.acquisition._chunks import map_rows
from batchbald.acquisition._validation import check_log_probs

__all__ = [
    "bald",
    "conditional_entropy",
    "entropy",
    "mean_std",
    "predictive_log_probs",
    "variation_ratios",
]


def entropy_from_log_probs(
    log_probs: torch.Tensor, probs: torch.Tensor | None = None
) -> torch.Tensor:
    """-Σ_c p log p over the last axis; p = 0 terms contribute 0 (never NaN)."""
    if probs is None:
        probs = log_probs.exp()
    # -inf -> most negative finite value, so 0 · log 0 becomes 0 · (-big) = 0 instead of NaN.
    finite_log_probs = log_probs.clamp(min=torch.finfo(log_probs.dtype).min)
    return -(probs * finite_log_probs).sum(dim=-1)


def mean_log_probs(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """log (1/K) Σ_k p(y|x, ω_k): ``[N, K, C] -> [N, C]``."""
    return torch.logsumexp(log_probs_N_K_C, dim=1) - math.log(log_probs_N_K_C.shape[1])


def predictive_log_probs(log_probs_N_K_C: Any) -> torch.Tensor:
    """log p(y|x) = log (1/K) Σ_k p(y|x, ω_k), float64 ``[N, C]``."""
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    return mean_log_probs(log_probs.double())


def _entropy_n(chunk_n_K_C: torch.Tensor) -> torch.Tensor:
    return entropy_from_log_probs(mean_log_probs(chunk_n_K_C.double()))


def _conditional_entropy_n(chunk_n_K_C: torch.Tensor) -> torch.Tensor:
    return entropy_from_log_probs(chunk_n_K_C.double()).mean(dim=1)


def _bald_and_conditional_entropy_n(chunk_n_K_C: torch.Tensor) -> torch.Tensor:
    """``[n, K, C] -> [n, 2]``: BALD and E_ω H[y|x,ω] from one exp pass."""
    log_probs = chunk_n_K_C.double()
    probs = log_probs.exp()
    expected = entropy_from_log_probs(log_probs, probs).mean(dim=1)
    mean_probs = probs.mean(dim=1)
    predictive = entropy_from_log_probs(mean_probs.log(), mean_probs)
    return torch.stack([predictive - expected, expected], dim=1)


def bald_and_conditional_entropy(
    log_probs_N_K_C: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BALD (clamped at 0) and E_ω H[y|x,ω], float64 ``[N]`` each, for validated input."""
    both_N_2 = map_rows(_bald_and_conditional_entropy_n, log_probs_N_K_C)
    return both_N_2[:, 0].clamp_(min=0.0), both_N_2[:, 1].clamp_(min=0.0)


def entropy(log_probs_N_K_C: Any) -> torch.Tensor:
    """Predictive entropy H[y|x] = H[(1/K) Σ_k p(y|x,ω_k)] (the max-entropy baseline).

    Args:
        log_probs_N_K_C: log p(y|x_n, ω_k), ``[N, K, C]``, float32/float64, any device.

    Returns:
        float64 ``[N]``, in nats, between 0 and log C.

    >>> entropy(torch.full((1, 2, 4), 0.25).log()).item() == math.log(4)
    True
    """
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    return map_rows(_entropy_n, log_probs).clamp_(min=0.0)


def conditional_entropy(log_probs_N_K_C: Any) -> torch.Tensor:
    """Expected conditional entropy E_ω H[y|x,ω] ≈ (1/K) Σ_k H[p(y|x,ω_k)].

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities.

    Returns:
        float64 ``[N]``, between 0 and log C.
    """
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    return map_rows(_conditional_entropy_n, log_probs).clamp_(min=0.0)


def bald(log_probs_N_K_C: Any) -> torch.Tensor:
    """BALD: the mutual information I[y; ω | x] = H[y|x] - E_ω H[y|x,ω] (BatchBALD eq. 2).

    Rounding can make the difference slightly negative; it is clamped to 0.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities. K = 1 warns
            (:class:`~batchbald.errors.SingleSampleWarning`): BALD is then identically 0.

    Returns:
        float64 ``[N]``, in nats, between 0 and min(log C, log K).
    """
    return bald_and_conditional_entropy(check_log_probs(log_probs_N_K_C))[0]


def variation_ratios(log_probs_N_K_C: Any) -> torch.Tensor:
    """Variation ratios 1 - max_y p(y|x), with p the MC-averaged predictive (Gal et al. 2017).

    Returns:
        float64 ``[N]`` in [0, 1 - 1/C].
    """
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)

    def variation_ratios_n(chunk: torch.Tensor) -> torch.Tensor:
        return 1.0 - chunk.double().exp().mean(dim=1).amax(dim=-1)

    return map_rows(variation_ratios_n, log_probs).clamp_(min=0.0)


def mean_std(log_probs_N_K_C: Any) -> torch.Tensor:
    """Mean standard deviation (1/C) Σ_c sqrt(E_ω[p_c²] - E_ω[p_c]²) (Kampffmeyer et al. 2016).

    Returns:
        float64 ``[N]``, ≥ 0.
    """
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)

    def mean_std_n(chunk: torch.Tensor) -> torch.Tensor:
        probs = chunk.double().exp()
        variance = (probs.square().mean(dim=1) - probs.mean(dim=1).square()).clamp_(min=0.0)
        return variance.sqrt().mean(dim=-1)

    return map_rows(mean_std_n, log_probs)
