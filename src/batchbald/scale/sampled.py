"""The certificate of streamed greedy in the sampled (Monte-Carlo) phase of BatchBALD.

At greedy step i the engine scores every candidate c by (``acquisition/greedy/terms.py``)

    ĝ_i(c) = Σ_m w_m H[Σ_k π_mk p_k(c)] − (1/K) Σ_k H[p_k(c)],

with ŷ^m the configurations of the batch so far (drawn afresh at each sampled step), w_m their
weights (Σ_m w_m = 1) and π_mk = p(ω_k | ŷ^m). Entropy is concave, so with the average
posterior π̄_i = Σ_m w_m π_m (a K-vector that depends only on the configurations):

    ĝ_i(c) ≤ U_i(c) := H[Σ_k π̄_ik p_k(c)] − (1/K) Σ_k H[p_k(c)].

U_i is a per-point number once π̄_i is known. In the exact phase π̄ is the uniform prior and U
is BALD; in the sampled phase it is BALD under the prior π̄_i (close to uniform: E[π_m] is the
prior) plus a correction, so it is a valid bound on the *estimate* the in-memory engine
computes, which BALD alone is not.

The configurations depend only on the picks' rows, in pick order, and on the generator's state
(``joint_entropy.sample_configurations``: a ``randperm(K)`` and M uniforms per batch point),
and the engine draws nothing else. So :func:`sampled_steps` can replay them from the
generator's state before the call, and while the streamed and in-memory calls have made the
same picks they see the same configurations. If every point left out of the candidate set has
U_i(c) below the pick's ĝ_i by a margin, no left-out point could have been picked at step i;
by induction over the steps the picks, the scores and the generator's final state are the
in-memory call's. :func:`points_that_could_win` checks this in one pass over the store and
returns the points that break it (they are loaded in the next round).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.scale.store import LogProbStore

__all__ = ["SampledStep", "points_that_could_win", "sampled_steps"]

# Elements (rows · K · C) of one float64 slice of the checking pass: 32 MiB.
CHECK_ELEMENTS = 2**22


@dataclass(frozen=True)
class SampledStep:
    """One sampled greedy step: what the bound U_i needs, and the pick's estimated gain ĝ_i.

    Attributes:
        step: the greedy step (0-based).
        posterior_K: π̄ of the (training) model's configurations, float64 ``[K]``.
        gain: ĝ_i of the step's pick, recomputed from the replayed configurations.
        eval_weights_K: for the evaluation rules, v = Σ_m w_m p_eval(ω_k | ŷ^m) of the
            evaluation model (its term's concavity lower bound); None for BatchBALD.
        penalty: λ (1 for BatchBALD and BatchEvaluationBALD, 0 for BatchEIG).
    """

    step: int
    posterior_K: torch.Tensor
    gain: float
    eval_weights_K: torch.Tensor | None = None
    penalty: float = 1.0


def _entropies(probs_n_K_C: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(probs_n_K_C, probs_n_K_C).sum(-1)


def _term_gain(configs: je.LabelConfigurations, log_probs_K_C: torch.Tensor, penalty: float):
    """Σ_m w_m H[Σ_k π_mk p_k] − λ mean_k H[p_k] of one point, and π̄ = Σ_m w_m π_m."""
    weights_M = configs.log_weights_M.double().exp()
    posterior_M_K = configs.posterior_M_K().double()
    probs_K_C = log_probs_K_C.double().exp()
    mixed_M_C = posterior_M_K @ probs_K_C
    gain = weights_M @ _entropies(mixed_M_C) - penalty * _entropies(probs_K_C).mean()
    return float(gain), weights_M @ posterior_M_K


def _self_normalised(configs: je.LabelConfigurations, eval_rows: torch.Tensor):
    """The evaluation model's configurations as the paired objective weights them."""
    rescored = je.rescore(configs, eval_rows)
    log_weights_M = rescored.log_weights_M - torch.logsumexp(rescored.log_weights_M, 0)
    return je.LabelConfigurations(
        rescored.labels_M_A, rescored.log_joint_M_K, log_weights_M, rescored.log_proposal_M
    )


def sampled_steps(
    picked_b_K_C: torch.Tensor,
    options: GreedyOptions,
    state: torch.Tensor,
    eval_picked_b_K_C: torch.Tensor | None = None,
    penalty: float = 1.0,
) -> list[SampledStep]:
    """Replay the configurations of every sampled step from the generator state ``state``.

    Args:
        picked_b_K_C: the picks' (training-model) log-probabilities in pick order.
        options: the greedy call's options (M, dtype).
        state: the generator's state before the greedy call.
        eval_picked_b_K_C: the evaluation model's rows of the picks (evaluation rules only).
        penalty: λ of the evaluation rules.
    """
    generator = torch.Generator()
    generator.set_state(state)
    num_classes, steps = picked_b_K_C.shape[2], []
    for step in range(1, picked_b_K_C.shape[0]):
        if not options.sampled(num_classes, step):
            continue
        configs = je.sample_configurations(
            picked_b_K_C[:step], options.num_samples, generator=generator, dtype=options.dtype
        )
        gain, posterior_K = _term_gain(configs, picked_b_K_C[step], penalty)
        if eval_picked_b_K_C is None:
            steps.append(SampledStep(step, posterior_K, gain))
            continue
        rescored = _self_normalised(configs, eval_picked_b_K_C[:step])
        eval_gain, eval_weights_K = _term_gain(rescored, eval_picked_b_K_C[step], penalty)
        steps.append(SampledStep(step, posterior_K, gain - eval_gain, eval_weights_K, penalty))
    return steps


def _bounds(probs_n_K_C, eval_probs_n_K_C, steps: list[SampledStep]) -> torch.Tensor:
    """U_i of every row and sampled step, float64 ``[n, S]``."""
    posterior_S_K = torch.stack([step.posterior_K for step in steps])
    penalty = steps[0].penalty
    # [n, K, C] mixed by each step's π̄ [S, K] -> [n, S, C]: the predictive under π̄.
    mixed_n_S_C = torch.einsum("nkc,sk->nsc", probs_n_K_C, posterior_S_K)
    bound_n_S = _entropies(mixed_n_S_C) - penalty * _entropies(probs_n_K_C).mean(1)[:, None]
    if eval_probs_n_K_C is None:
        return bound_n_S
    # The evaluation term is at least Σ_k (v_k − λ/K) H[p_eval,k] (concavity).
    weights_S_K = torch.stack([step.eval_weights_K for step in steps]) - penalty / len(
        steps[0].eval_weights_K
    )
    return bound_n_S - _entropies(eval_probs_n_K_C) @ weights_S_K.T


def points_that_could_win(
    store: LogProbStore,
    loaded: np.ndarray,
    steps: list[SampledStep],
    tolerance: float,
    eval_store: LogProbStore | None = None,
) -> np.ndarray:
    """Pool rows outside ``loaded`` whose bound U_i reaches some step's pick gain − tolerance.

    One pass over the store (and ``eval_store``, the evaluation model's, for the evaluation
    rules) in float64 slices of :data:`CHECK_ELEMENTS`; empty when the sampled steps are
    certified.

    Args:
        store: the pool.
        loaded: the sorted candidate rows the greedy call saw.
        steps: the sampled steps of that call (:func:`sampled_steps`).
        tolerance: the margin the picks' gains must keep (covers rounding).
        eval_store: the evaluation model's log-probabilities of the same pool.
    """
    if not steps:
        return np.empty(0, dtype=np.int64)
    floor_S = torch.tensor([step.gain for step in steps], dtype=torch.float64) - tolerance
    num_samples, num_classes = store.shape[1:]
    rows = max(1, CHECK_ELEMENTS // (num_samples * num_classes))
    found = []
    for start, log_probs_n_K_C in store.chunks(rows):
        eval_probs = None
        if eval_store is not None:
            eval_rows = np.arange(start, start + len(log_probs_n_K_C))
            eval_probs = eval_store.take(eval_rows).double().exp()
        bound_n_S = _bounds(log_probs_n_K_C.double().exp(), eval_probs, steps)
        hits = np.flatnonzero((bound_n_S >= floor_S).any(1).numpy()) + start
        found.append(hits[~np.isin(hits, loaded, assume_unique=True)])
    return np.concatenate(found)
