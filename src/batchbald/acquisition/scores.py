"""Per-point acquisition scores ``log_probs_N_K_C -> scores_N`` (float64).

Notation: N pool points, K posterior samples ω_k (e.g. MC dropout masks), C classes.
Every function validates its input and makes one pass over bounded slices of the pool (memory
does not grow with N beyond the output), checking normalisation on the probabilities it computes
anyway. Terms are computed in the input's precision; the sums over K × C are accumulated in
float64, the means over K in the input's precision (a reduction over K into a short C axis is
slow in float64), so for float32 inputs the scores carry float32 rounding of those means
(≲ 1e-5 nats, below the input's own precision and far below Monte-Carlo noise); a float64 input
is computed in float64 throughout. Probabilities of exactly 0 (log-prob -inf) contribute 0 to
entropies, never NaN. Results are float64 on the input's device.

References:
    Houlsby et al. (2011), "Bayesian Active Learning for Classification and Preference Learning".
    Gal, Islam, Ghahramani (2017), "Deep Bayesian Active Learning with Image Data".
    Kirsch, van Amersfoort, Gal (2019), "BatchBALD", eq. (2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS, map_rows
from batchbald.acquisition._validation import check_log_probs, check_normalisation_deviation
from batchbald.acquisition.numerics import entropy_rows, plogp_sums

__all__ = [
    "bald",
    "conditional_entropy",
    "entropy",
    "mean_std",
    "predictive_log_probs",
    "variation_ratios",
]

F64 = torch.float64
ChunkFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def map_checked(
    fn: ChunkFn,
    log_probs_N_K_C: torch.Tensor,
    name: str = "log_probs_N_K_C",
    *,
    max_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> torch.Tensor:
    """Apply ``fn(log_probs_n_K_C, probs_n_K_C) -> [n, ...]`` over pool slices.

    The probabilities are computed once per slice and also used to check that every row is
    normalised (raises :class:`~batchbald.errors.InvalidInputError` naming ``name`` otherwise).
    They live in one work buffer reused by every slice (fresh multi-megabyte allocations per
    slice cost more in page faults than the arithmetic): ``fn`` may overwrite ``probs_n_K_C``
    but must not keep it.
    """
    worst = [0.0]
    buffer: list[torch.Tensor] = []

    def apply(chunk_n_K_C: torch.Tensor) -> torch.Tensor:
        if not buffer:  # the first slice is the largest
            buffer.append(chunk_n_K_C.new_empty(chunk_n_K_C.numel()))  # contiguous, any input
        probs = torch.exp(chunk_n_K_C, out=buffer[0][: chunk_n_K_C.numel()].view_as(chunk_n_K_C))
        deviation = (_row_sums(probs.view(-1, probs.shape[-1])) - 1.0).abs().max().item()
        worst[0] = max(worst[0], deviation) if deviation == deviation else math.inf
        return fn(chunk_n_K_C, probs)

    out = map_rows(apply, log_probs_N_K_C, max_elements=max_elements)
    check_normalisation_deviation(worst[0], name)
    return out


def _row_sums(tensor_n_D: torch.Tensor) -> torch.Tensor:
    """Σ over the last axis of ``[n, D]`` as one matrix-vector product, in the input dtype.

    Fast for short rows; its rounding can depend on n, so it only serves the normalisation check.
    """
    return torch.mv(tensor_n_D, tensor_n_D.new_ones(tensor_n_D.shape[1]))


def _plogp_sum(log_probs_n_K_C: torch.Tensor, probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """Σ_{k,c} p log p per point, float64 ``[n]`` (0 log 0 = 0); overwrites ``probs_n_K_C``."""
    return plogp_sums(log_probs_n_K_C, probs_n_K_C)


def _mean_probs(probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """(1/K) Σ_k p(y|x, ω_k), float64 ``[n, C]`` (summed in the input dtype)."""
    return probs_n_K_C.sum(dim=1).double() / probs_n_K_C.shape[1]


def _predictive_entropy(probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """H[(1/K) Σ_k p(· | x, ω_k)] per point, float64 ``[n]``."""
    return entropy_rows(_mean_probs(probs_n_K_C))


def _conditional_entropy(log_probs_n_K_C: torch.Tensor, probs_n_K_C: torch.Tensor) -> torch.Tensor:
    return -_plogp_sum(log_probs_n_K_C, probs_n_K_C) / log_probs_n_K_C.shape[1]


def _bald_and_conditional_entropy(log_probs: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """``[n, K, C] -> [n, 2]``: BALD and E_ω H[y|x,ω] (overwrites ``probs``)."""
    predictive = _predictive_entropy(probs)
    expected = _conditional_entropy(log_probs, probs)
    return torch.stack([predictive - expected, expected], dim=1)


def bald_and_conditional_entropy(
    log_probs_N_K_C: torch.Tensor, *, max_elements: int = DEFAULT_CHUNK_ELEMENTS
) -> tuple[torch.Tensor, torch.Tensor]:
    """BALD (clamped at 0) and E_ω H[y|x,ω], float64 ``[N]`` each, in one checked pass.

    For callers that already ran ``check_log_probs(..., check_normalisation=False)``;
    ``max_elements`` bounds each slice (about 12 bytes of temporaries per element).
    """
    both_N_2 = map_checked(
        _bald_and_conditional_entropy, log_probs_N_K_C, max_elements=max_elements
    )
    return both_N_2[:, 0].clamp_(min=0.0), both_N_2[:, 1].clamp_(min=0.0)


def _score(fn: ChunkFn, log_probs_N_K_C: Any, *, warn_single_sample: bool = False) -> torch.Tensor:
    log_probs = check_log_probs(
        log_probs_N_K_C, warn_single_sample=warn_single_sample, check_normalisation=False
    )
    return map_checked(fn, log_probs)


def predictive_log_probs(log_probs_N_K_C: Any) -> torch.Tensor:
    """Log p(y|x) = log (1/K) Σ_k p(y|x, ω_k), float64 ``[N, C]``."""
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=False)
    return torch.logsumexp(log_probs.double(), dim=1) - math.log(log_probs.shape[1])


def entropy(log_probs_N_K_C: Any) -> torch.Tensor:
    """Predictive entropy H[y|x] = H[(1/K) Σ_k p(y|x,ω_k)] (the max-entropy baseline).

    Args:
        log_probs_N_K_C: log p(y|x_n, ω_k), ``[N, K, C]``, float32/float64, any device.

    Returns:
        float64 ``[N]``, in nats, between 0 and log C.

    >>> round(entropy(torch.full((1, 2, 4), 0.25).log()).item(), 6) == round(math.log(4), 6)
    True
    """
    return _score(lambda log_probs, probs: _predictive_entropy(probs), log_probs_N_K_C).clamp_(
        min=0.0
    )


def conditional_entropy(log_probs_N_K_C: Any) -> torch.Tensor:
    """Expected conditional entropy E_ω H[y|x,ω] ≈ (1/K) Σ_k H[p(y|x,ω_k)].

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities.

    Returns:
        float64 ``[N]``, between 0 and log C.
    """
    return _score(_conditional_entropy, log_probs_N_K_C).clamp_(min=0.0)


def bald(log_probs_N_K_C: Any) -> torch.Tensor:
    """BALD: the mutual information I[y; ω | x] = H[y|x] - E_ω H[y|x,ω] (BatchBALD eq. 2).

    Rounding can make the difference slightly negative; it is clamped to 0.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities. K = 1 warns
            (:class:`~batchbald.errors.SingleSampleWarning`): BALD is then identically 0.

    Returns:
        float64 ``[N]``, in nats, between 0 and min(log C, log K).
    """
    both_N_2 = _score(_bald_and_conditional_entropy, log_probs_N_K_C, warn_single_sample=True)
    return both_N_2[:, 0].clamp_(min=0.0)


def variation_ratios(log_probs_N_K_C: Any) -> torch.Tensor:
    """Variation ratios 1 - max_y p(y|x), with p the MC-averaged predictive (Gal et al. 2017).

    Returns:
        float64 ``[N]`` in [0, 1 - 1/C].
    """

    def variation_ratios_n(log_probs: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        return 1.0 - _mean_probs(probs).amax(dim=-1)

    return _score(variation_ratios_n, log_probs_N_K_C).clamp_(min=0.0)


def mean_std(log_probs_N_K_C: Any) -> torch.Tensor:
    """Mean standard deviation (1/C) Σ_c sqrt(E_ω[p_c²] - E_ω[p_c]²) (Kampffmeyer et al. 2016).

    Returns:
        float64 ``[N]``, ≥ 0.
    """

    def mean_std_n(log_probs: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        second_moment = probs.square().sum(dim=1, dtype=F64) / probs.shape[1]
        variance = (second_moment - _mean_probs(probs).square()).clamp_(min=0.0)
        return variance.sqrt().mean(dim=-1)

    return _score(mean_std_n, log_probs_N_K_C)
