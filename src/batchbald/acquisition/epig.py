"""EPIG: expected predictive information gain, per pool point (Bickford Smith et al., 2023).

EPIG scores a pool input x by how much its label y tells about the label y* of a *target* input
x* drawn from the distribution the model will be used on:

    EPIG(x) = E_{p*(x*)} I[y; y* | x, x*],
    I[y; y*] = H[y] + H[y*] − H[y, y*],
    p(y, y*) = E_{p(ω)} p(y|x, ω) p(y*|x*, ω) ≈ (1/K) Σ_k p(y|x, ω_k) p(y*|x*, ω_k),

(the paper's eq. 3 and its Monte-Carlo estimator, eq. 7) with the same K posterior samples ω_k
for pool and target inputs, and the expectation over x* estimated by the mean over T target
inputs (samples of the pool, or an explicit target set). Unlike BALD (information about ω),
EPIG only values information that changes predictions on the target distribution.

Computation: for a slice of n pool points and t target points, the joint ``[n·C, t·C]`` is one
matrix product ``P [n·C, K] @ Q [K, t·C] / K`` in ``dtype`` (float64 by default); H[y, y*] sums
``entr`` over each C × C block (accumulated in float64). Memory is bounded by
``max_memory_bytes`` for any N and T. Every (pool, target) mutual information is computed on its
own and the mean over T is taken once per pool row, so slicing changes results only through
BLAS rounding of the K-sum (≤ 1e-12 nats in float64, ≤ 1e-5 in float32; tested). ``dtype =
torch.float32`` runs the product and the ``entr`` in float32 (timed in docs/performance.md) at
≈ 1e-6 nats, the precision of float32 inputs.

References:
    Bickford Smith, Kirsch, Farquhar, Gal, Foster, Rainforth (2023), "Prediction-Oriented
    Bayesian Active Learning", AISTATS, eqs. (3) and (7). Definitions and estimators:
    ``docs/baselines.md``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.acquisition._chunks import row_slices
from batchbald.acquisition._validation import check_dtype, check_log_probs, check_memory_budget
from batchbald.errors import InvalidInputError

__all__ = [
    "DEFAULT_EPIG_MEMORY_BYTES",
    "check_target",
    "epig",
    "mixture_entropy",
    "predictive_entropy",
    "probs_f64",
]

F64 = torch.float64
# Temporaries of one (pool slice, target slice) block: 32 MiB, as the per-point scores' slices
# (acquisition/_chunks.py): fresh multi-hundred-megabyte blocks cost more in page faults than the
# arithmetic, and a few thousand rows per product keep BLAS at full speed.
DEFAULT_EPIG_MEMORY_BYTES = 2**25


def probs_f64(log_probs_n_K_C: torch.Tensor) -> torch.Tensor:
    """Probabilities in float64 (exp of the log-probabilities; -inf gives exactly 0)."""
    return log_probs_n_K_C.to(F64).exp()


def mixture_entropy(probs_n_K_C: torch.Tensor, weights_M_K: torch.Tensor) -> torch.Tensor:
    """H[Σ_k w_mk p_k(y)] for every weight row m and point n, float64 ``[M, n]``.

    Args:
        probs_n_K_C: float64 ``[n, K, C]`` probabilities.
        weights_M_K: float64 ``[M, K]`` mixture weights (rows sum to 1).
    """
    num_points, num_samples, num_classes = probs_n_K_C.shape
    # [n, K, C] -> [K, n·C] so the mixture over K is one matrix product.
    mixed = weights_M_K @ probs_n_K_C.transpose(0, 1).reshape(num_samples, -1)
    return torch.special.entr(mixed.view(-1, num_points, num_classes)).sum(dim=-1)


def check_target(pool: torch.Tensor, target_log_probs_T_K_C: Any) -> torch.Tensor:
    """Validate target log-probabilities against the pool's: same K posterior samples, same C."""
    target = check_log_probs(
        target_log_probs_T_K_C, "target_log_probs_T_K_C", warn_single_sample=False
    )
    if target.shape[1:] != pool.shape[1:]:
        raise InvalidInputError(
            "target_log_probs_T_K_C must use the same K posterior samples and C classes as "
            f"log_probs_N_K_C (K, C) = {tuple(pool.shape[1:])}; got {tuple(target.shape[1:])}. "
            "Score pool and target inputs with the same dropout masks."
        )
    return target


def block_sizes(num_pool: int, num_target: int, row_elements: int, budget: int) -> tuple[int, int]:
    """Pool and target slice lengths whose ``[n, t]`` blocks of ``row_elements`` fit ``budget``.

    ``budget`` is in elements of the joint's dtype; the target slice is at most √budget rows
    so that pool slices stay long enough for efficient matrix products.
    """
    targets = min(num_target, max(1, math.isqrt(max(1, budget // row_elements))))
    points = max(1, min(num_pool, budget // (row_elements * targets + num_target)))
    return points, targets


def _joint_entropy_block(pool_n_K_C: torch.Tensor, target_t_K_C: torch.Tensor) -> torch.Tensor:
    """H[y, y*] for every (pool, target) pair of two probability slices, float64 ``[n, t]``.

    The product and ``entr`` run in the slices' dtype; the sums over C × C in float64.
    """
    num_points, num_samples, num_classes = pool_n_K_C.shape
    # [n, K, C] -> [n·C, K] and [t, K, C] -> [K, t·C]: the K-sum is one matrix product.
    left = pool_n_K_C.transpose(1, 2).reshape(-1, num_samples)
    right = target_t_K_C.transpose(0, 1).reshape(num_samples, -1)
    joint = (left @ right).div_(num_samples)
    joint = joint.view(num_points, num_classes, len(target_t_K_C), num_classes)
    return torch.special.entr(joint, out=joint).sum(dim=(1, 3), dtype=F64)


def epig(
    log_probs_N_K_C: Any,
    target_log_probs_T_K_C: Any,
    *,
    max_memory_bytes: int = DEFAULT_EPIG_MEMORY_BYTES,
    dtype: Any = F64,
) -> torch.Tensor:
    """EPIG(x_n) = (1/T) Σ_t I[y_n; y*_t] with p(y, y*) = (1/K) Σ_k p_k(y) p_k(y*) (eq. 7).

    Args:
        log_probs_N_K_C: ``[N, K, C]`` pool log-probabilities, float32/float64, any device.
            K = 1 warns (:class:`~batchbald.errors.SingleSampleWarning`): EPIG is then 0.
        target_log_probs_T_K_C: ``[T, K, C]`` log-probabilities of T target inputs under the
            *same* K posterior samples (e.g. a subset of the pool, or an explicit target set).
        max_memory_bytes: bound on the temporaries of one block.
        dtype: precision of the joint predictive, ``torch.float64`` (default) or
            ``torch.float32`` (faster; ≈ 1e-6 nats), or their names.

    Returns:
        float64 ``[N]`` on the input's device, in [0, min(log C, log K)] (tiny negative rounding
        is clamped to 0).

    Raises:
        InvalidInputError: bad log-probabilities, target K/C differing from the pool's, or a
            ``dtype`` other than float32/float64.

    >>> certain = torch.tensor([[[0.0, -math.inf]]] * 2).expand(2, 3, 2)
    >>> epig(certain, certain).tolist()
    [0.0, 0.0]
    """
    pool = check_log_probs(log_probs_N_K_C)
    target = check_target(pool, target_log_probs_T_K_C)
    dtype = check_dtype(dtype)
    budget = check_memory_budget(max_memory_bytes) // dtype.itemsize
    return _epig(pool, target, budget, dtype).clamp_(min=0.0)


def _epig(
    pool: torch.Tensor, target: torch.Tensor, budget: int, dtype: torch.dtype
) -> torch.Tensor:
    """EPIG of checked inputs, float64 ``[N]``; the joints in ``dtype``, ≤ ``budget`` elements."""
    num_samples, num_classes = pool.shape[1:]
    f64_budget = budget * dtype.itemsize // 8
    target_entropy_T = predictive_entropy(target, f64_budget)
    points, targets = block_sizes(
        len(pool), len(target), num_classes * num_classes + num_samples * num_classes, budget
    )
    scores = torch.empty(len(pool), dtype=F64, device=pool.device)
    for pool_rows in row_slices(len(pool), points):
        probs_n = pool[pool_rows].to(dtype).exp()
        joint_entropy_n_T = torch.cat(
            [
                _joint_entropy_block(probs_n, target[target_rows].to(dtype).exp())
                for target_rows in row_slices(len(target), targets)
            ],
            dim=1,
        )
        pool_entropy_n = predictive_entropy(pool[pool_rows], f64_budget)
        information_n_T = (pool_entropy_n[:, None] + target_entropy_T) - joint_entropy_n_T
        scores[pool_rows] = information_n_T.mean(dim=1)
    return scores


def predictive_entropy(log_probs_N_K_C: torch.Tensor, budget: int) -> torch.Tensor:
    """H[(1/K) Σ_k p_k(y)] per point, float64 ``[N]``, in slices of ≤ ``budget`` elements."""
    num_samples = log_probs_N_K_C.shape[1]
    uniform_1_K = torch.full(
        (1, num_samples), 1.0 / num_samples, dtype=F64, device=log_probs_N_K_C.device
    )
    rows = max(1, budget // log_probs_N_K_C[0].numel())
    return torch.cat(
        [
            mixture_entropy(probs_f64(log_probs_N_K_C[part]), uniform_1_K)[0]
            for part in row_slices(len(log_probs_N_K_C), rows)
        ]
    )
