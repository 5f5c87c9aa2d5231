"""Greedy BatchBALD (Kirsch, van Amersfoort, Gal 2019, Algorithm 1), lazily evaluated.

a_BatchBALD(A) = I(y_A; ω) = H(y_A) − Σ_{i∈A} E_ω H(y_i | ω)                            (eq. 8)

is monotone submodular in A, so the greedy batch is within 1 − 1/e of the best (Prop. 1). Greedy
step n adds the candidate with the largest marginal gain

    Δ(c | A) = H(y_A, y_c) − H(y_A) − E_ω H(y_c | ω) = Σ_m w_m H[p(· | ŷ^m, x_c)] − E_ω H(y_c | ω)

(see :mod:`batchbald.acquisition.joint_entropy` for the configurations ŷ^m and weights w_m).
Joint entropies are exact while C^n ≤ num_samples (every configuration enumerated) and estimated
from num_samples configurations drawn from p(y_A) afterwards (appendix C), redrawn at every greedy
step from ``generator`` and shared by every candidate (common random numbers). The greedy loop
and its lazy evaluation (Minoux 1978) are :mod:`batchbald.acquisition.greedy`'s.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import torch

from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS
from batchbald.acquisition._validation import check_batch_size, check_log_probs
from batchbald.acquisition.greedy.engine import run_greedy
from batchbald.acquisition.greedy.options import (
    DEFAULT_MAX_MEMORY_BYTES,
    DEFAULT_OPTIONS,
    GreedyOptions,
    GreedySettings,
)
from batchbald.acquisition.greedy.single import SingleTermObjective
from batchbald.acquisition.greedy.terms import warn_few_samples
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import bald_and_conditional_entropy
from batchbald.errors import JointMutualInformationSaturationWarning

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DEFAULT_MAX_MEMORY_BYTES", "batchbald"]

#: Warn when the joint MI estimate exceeds this fraction of its ceiling log K.
SATURATION_FRACTION = 0.9


def batchbald(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    options: GreedyOptions = DEFAULT_OPTIONS,
    generator: torch.Generator | None = None,
    **settings: Unpack[GreedySettings],
) -> AcquisitionResult:
    """Select a batch by greedy BatchBALD.

    Args:
        log_probs_N_K_C: log p(y | x_n, ω_k) of the pool, ``[N, K, C]``, float32/64, any device.
        batch_size: b, 1 ≤ b ≤ N.
        options: :class:`GreedyOptions` (default: every field's default).
        generator: randomness for the sampled phase; None uses ``options.generator`` (default:
            torch's global generator).
        **settings: ``num_samples`` (M; paper: 10,000, its code 40,000), ``dtype`` (float64 as
            in the paper, or float32), ``max_memory_bytes``, ``lazy``: each overrides that field
            of ``options`` (:class:`GreedySettings`).

    Returns:
        :class:`AcquisitionResult`: indices in pick order; ``scores[i]`` the estimated I(y_A; ω)
        of the first i + 1 picks (float64).

    Warns:
        SingleSampleWarning: K = 1 (all scores 0; picks are the lowest indices).
        FewSamplesWarning: the sampled phase is entered with num_samples < 10·K.
        JointMutualInformationSaturationWarning: the joint MI estimate exceeds 90% of its
            ceiling log K; later picks are mostly estimation noise.
    """
    log_probs = check_log_probs(log_probs_N_K_C, check_normalisation=False)
    batch_size = check_batch_size(batch_size, log_probs.shape[0])
    options = GreedyOptions.of_call("batchbald", options, generator, settings)
    objective = SingleTermObjective(
        log_probs, _first_gains(log_probs, options), options, batch_size
    )
    warn_few_samples(log_probs, batch_size, options)
    result = run_greedy(objective, batch_size, options.lazy)
    return _clamped_and_checked(result, log_probs.shape[1])


def _first_gains(log_probs_N_K_C: torch.Tensor, options: GreedyOptions):
    """Δ(c | ∅) = BALD(c) and E_ω H(y_c | ω): the first gains and bounds, float64 ``[N]`` each."""
    max_elements = max(1, min(DEFAULT_CHUNK_ELEMENTS, options.max_memory_bytes // 32))
    return bald_and_conditional_entropy(log_probs_N_K_C, max_elements=max_elements)


def _clamped_and_checked(result: AcquisitionResult, num_posterior_samples: int):
    """The result with scores clamped at 0 (rounding).

    Warns when a cumulative score exceeds SATURATION_FRACTION of its ceiling log K.
    """
    scores_b = result.scores.clamp_(min=0.0)
    ceiling = math.log(num_posterior_samples)
    over = torch.nonzero(scores_b > SATURATION_FRACTION * ceiling).squeeze(1)
    if ceiling <= 0 or not len(over):
        return result
    pick = int(over[0])
    warnings.warn(
        f"BatchBALD's joint mutual information estimate reached {float(scores_b[pick]):.3f} "
        f"nats at pick {pick + 1} of {len(scores_b)}, over {SATURATION_FRACTION:.0%} of its "
        f"ceiling log K = {ceiling:.3f} (K = {num_posterior_samples} posterior samples): "
        "later picks are dominated by estimation noise. Use more posterior samples.",
        JointMutualInformationSaturationWarning,
        stacklevel=3,
    )
    return result
