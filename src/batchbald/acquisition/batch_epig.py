"""Greedy batch EPIG: the information a batch's labels carry about a target label.

The batch generalisation of EPIG (Bickford Smith et al., 2023) that BatchBALD (Kirsch et al.,
2019) makes of BALD: score a batch B by the mutual information between *all* its labels and the
label of a target input, averaged over target inputs,

    BatchEPIG(B) = E_{x*} I[y_B; y* | x_B, x*] = E_{x*} (H[y*] − H[y* | y_B]),

with p(y_B, y*) = (1/K) Σ_k Π_{i∈B} p_k(y_i) p_k(y*). Adding candidate n to B gives

    I[y_B, y_n; y*] = H[y*] + H[y_n | y_B] − H[y_n, y* | y_B],

and both conditional entropies are expectations over batch labellings y_B of entropies of
mixtures over k with the posterior weights w_k(y_B) = Π_i p_k(y_i) / Σ_k' Π_i p_k'(y_i):

    H[y_n | y_B]       = E_{y_B} H[Σ_k w_k(y_B) p_k(y_n)],
    H[y_n, y* | y_B]   = E_{y_B} H[Σ_k w_k(y_B) p_k(y_n) p_k(y*)].

The expectation over y_B is exact (all labellings, with their probabilities) while there are at
most ``num_samples`` of them, and otherwise estimated from ``num_samples`` labellings drawn from
p(y_B) once per greedy step (common random numbers for every candidate). With one labelling of
weight 1 and w_k = 1/K (the empty batch) the score is per-point EPIG, so the first pick is
argmax EPIG. Batch size 1 is exactly top-1 EPIG. Cost per step: O(N · T · M · K · C²) for M
labellings: use it on small pools or with few target inputs (``docs/baselines.md``).
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._chunks import row_slices
from batchbald.acquisition._validation import (
    check_batch_size,
    check_generator,
    check_log_probs,
    check_memory_budget,
    check_positive_int,
)
from batchbald.acquisition.epig import (
    DEFAULT_EPIG_MEMORY_BYTES,
    check_target,
    mixture_entropy,
    predictive_entropy,
    probs_f64,
)
from batchbald.acquisition.result import AcquisitionResult

__all__ = ["batch_epig", "batch_gains", "extend_labellings"]

F64 = torch.float64


def _joint_entropy(
    probs_n_K_C: torch.Tensor, target_t_K_C: torch.Tensor, posterior_m_K: torch.Tensor
) -> torch.Tensor:
    """H[Σ_k w_mk p_k(y_n) p_k(y*_t)] per labelling m, candidate n, target t: ``[m, n, t]``."""
    num_points, num_samples, num_classes = probs_n_K_C.shape
    # [m, n, K, C] -> [m·n·C, K] and [t, K, C] -> [K, t·C]: the K-sum is one matrix product.
    left = (posterior_m_K[:, None, :, None] * probs_n_K_C).transpose(2, 3)
    right = target_t_K_C.transpose(0, 1).reshape(num_samples, -1)
    joint = left.reshape(-1, num_samples) @ right
    joint = joint.view(len(posterior_m_K), num_points, num_classes, len(target_t_K_C), num_classes)
    return torch.special.entr(joint, out=joint).sum(dim=(2, 4))


def batch_gains(
    pool: torch.Tensor,
    target: torch.Tensor,
    weights_M: torch.Tensor,
    posterior_M_K: torch.Tensor,
    budget: int,
) -> torch.Tensor:
    """I[y_B, y_n; y*] averaged over targets, for every candidate n, float64 ``[N]``.

    Args:
        pool: ``[N, K, C]`` checked pool log-probabilities.
        target: ``[T, K, C]`` checked target log-probabilities.
        weights_M: float64 ``[M]`` probabilities of the batch labellings (sum to 1).
        posterior_M_K: float64 ``[M, K]`` posterior weights w_k(y_B) of each labelling.
        budget: float64 elements allowed for the temporaries of one block.
    """
    num_samples, num_classes = pool.shape[1:]
    target_entropy = predictive_entropy(target, budget).mean()
    targets = min(len(target), max(1, budget // (num_classes * (num_samples + num_classes))))
    pairs = max(1, budget // (num_classes * (num_samples + num_classes * targets)))
    configs = min(len(weights_M), pairs)
    points = max(1, min(len(pool), pairs // configs))
    gains = torch.empty(len(pool), dtype=F64, device=pool.device)
    for pool_rows in row_slices(len(pool), points):
        probs_n = probs_f64(pool[pool_rows])
        joint_n_T = torch.zeros(len(probs_n), len(target), dtype=F64, device=pool.device)
        conditional_n = torch.zeros(len(probs_n), dtype=F64, device=pool.device)
        for rows in row_slices(len(weights_M), configs):
            conditional_n += weights_M[rows] @ mixture_entropy(probs_n, posterior_M_K[rows])
            for target_rows in row_slices(len(target), targets):
                block = _joint_entropy(probs_n, probs_f64(target[target_rows]), posterior_M_K[rows])
                joint_n_T[:, target_rows] += torch.einsum("m,mnt->nt", weights_M[rows], block)
        gains[pool_rows] = conditional_n + target_entropy - joint_n_T.mean(dim=1)
    return gains


def extend_labellings(
    weights_M: torch.Tensor,
    posterior_M_K: torch.Tensor,
    probs_K_C: torch.Tensor,
    num_samples: int,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labellings of B ∪ {n} from those of B and the picked point's probabilities ``[K, C]``.

    Every labelling m is extended by each class c with probability p(c | y_B^m) = Σ_k w_mk
    p_k(c) and posterior w_mk p_k(c) / p(c | y_B^m). Labellings of probability 0 are dropped.
    When more than ``num_samples`` remain, ``num_samples`` are drawn (with replacement, weight
    1/S each) from their distribution with ``generator``.
    """
    predictive_M_C = posterior_M_K @ probs_K_C
    weights_MC = (weights_M[:, None] * predictive_M_C).flatten()
    posterior = posterior_M_K[:, None, :] * probs_K_C.T  # [M, C, K]
    posterior_MC_K = (posterior / predictive_M_C[..., None]).flatten(0, 1)
    kept = weights_MC > 0
    weights_MC, posterior_MC_K = weights_MC[kept], posterior_MC_K[kept]
    if len(weights_MC) <= num_samples:
        return weights_MC / weights_MC.sum(), posterior_MC_K
    draws = torch.multinomial(
        weights_MC.cpu(), num_samples, replacement=True, generator=generator
    ).to(weights_MC.device)
    uniform = torch.full((num_samples,), 1.0 / num_samples, dtype=F64, device=weights_MC.device)
    return uniform, posterior_MC_K[draws]


def batch_epig(
    log_probs_N_K_C: Any,
    target_log_probs_T_K_C: Any,
    batch_size: int,
    *,
    num_samples: int = 1000,
    generator: torch.Generator | None = None,
    max_memory_bytes: int = DEFAULT_EPIG_MEMORY_BYTES,
) -> AcquisitionResult:
    """Greedy BatchEPIG: b picks, each maximising E_{x*} I[y_B, y_n; y*] (module docstring).

    Args:
        log_probs_N_K_C: ``[N, K, C]`` pool log-probabilities.
        target_log_probs_T_K_C: ``[T, K, C]`` target log-probabilities, same K samples.
        batch_size: b, with 1 ≤ b ≤ N.
        num_samples: most batch labellings kept; beyond it they are sampled (M = num_samples).
        generator: draws the sampled labellings (unused while enumeration is exact).
        max_memory_bytes: bound on the float64 temporaries of one block.

    Returns:
        :class:`AcquisitionResult`; ``scores[i]`` is the estimated BatchEPIG of the first i+1
        picks (non-decreasing up to sampling noise, ≤ min(log C, log K)).

    Raises:
        InvalidInputError: bad log-probabilities, target, batch size or options.
    """
    pool = check_log_probs(log_probs_N_K_C)
    target = check_target(pool, target_log_probs_T_K_C)
    batch_size = check_batch_size(batch_size, len(pool))
    num_samples = check_positive_int(num_samples, "num_samples")
    generator = check_generator(generator)
    budget = check_memory_budget(max_memory_bytes) // 8
    return _greedy(pool, target, batch_size, num_samples, generator, budget)


def _greedy(
    pool: torch.Tensor,
    target: torch.Tensor,
    batch_size: int,
    num_samples: int,
    generator: torch.Generator | None,
    budget: int,
) -> AcquisitionResult:
    """The greedy loop of :func:`batch_epig` on checked inputs."""
    num_k = pool.shape[1]
    weights_M = torch.ones(1, dtype=F64, device=pool.device)
    posterior_M_K = torch.full((1, num_k), 1.0 / num_k, dtype=F64, device=pool.device)
    taken = torch.zeros(len(pool), dtype=torch.bool, device=pool.device)
    indices, scores = [], []
    for step in range(batch_size):
        gains = batch_gains(pool, target, weights_M, posterior_M_K, budget)
        best = int(torch.argmax(gains.masked_fill(taken, -torch.inf)))  # first maximum
        taken[best] = True
        indices.append(best)
        scores.append(float(gains[best]))
        if step + 1 < batch_size:
            weights_M, posterior_M_K = extend_labellings(
                weights_M, posterior_M_K, probs_f64(pool[best]), num_samples, generator
            )
    return AcquisitionResult(
        indices=torch.tensor(indices, dtype=torch.long),
        scores=torch.tensor(scores, dtype=F64).clamp_(min=0.0),
    )
