"""Conditional-entropy sums Σ_m w_m H[p(· | ŷ^m, x_c)] for many candidates: the greedy GEMMs.

For configurations ŷ^m of the batch with posteriors p(ω_k | ŷ^m) and weights w_m (see
:mod:`batchbald.acquisition.joint_entropy`), the candidate term of H(y_A, y_c) for all
candidates is one GEMM per chunk, ``posterior_M_K @ probs_K_(n·C)``, then an entropy reduction,
in work buffers sized from a byte budget.
"""

from __future__ import annotations

import math

import torch

from batchbald.acquisition.numerics import neg_entropy_terms_
from batchbald.errors import InvalidInputError

__all__ = [
    "Workspace",
    "candidate_chunk_size",
    "conditional_entropy_rows",
    "conditional_entropy_sums",
    "conditional_entropy_sums_at",
    "rounding_bound",
]


def conditional_entropy_rows(
    posterior_G_K: torch.Tensor, log_probs_n_K_C: torch.Tensor
) -> torch.Tensor:
    """H[Σ_k posterior[g, k] p(· | x_n, ω_k)] per row g and candidate n, not summed over rows.

    The per-row form of :func:`conditional_entropy_sums` (used where each row's term is bounded
    separately). Memory: ``[G, n, C]`` in the posterior's dtype; the caller chunks candidates.

    Args:
        posterior_G_K: rows of weights over the K samples, compute dtype.
        log_probs_n_K_C: the candidates' log-probabilities (any float dtype).

    Returns:
        ``[G, n]`` in the posterior's dtype.
    """
    num_points, num_posterior_samples, num_classes = log_probs_n_K_C.shape
    probs_K_nC = log_probs_n_K_C.to(posterior_G_K.dtype).exp().transpose(0, 1)
    conditional_G_nC = posterior_G_K @ probs_K_nC.reshape(num_posterior_samples, -1)
    entropy_G_nC = neg_entropy_terms_(conditional_G_nC, torch.empty_like(conditional_G_nC))
    return entropy_G_nC.view(-1, num_points, num_classes).sum(dim=2).neg_()


# Preferred size of each [M, n·C] temporary: large enough for an efficient GEMM, small enough to
# stay in the last-level cache's neighbourhood and to avoid page faults on fresh allocations.
PREFERRED_BUFFER_BYTES = 16 * 2**20


def candidate_chunk_size(
    num_configurations: int,
    num_posterior_samples: int,
    num_classes: int,
    itemsize: int,
    max_memory_bytes: int,
    share: float = 1.0,
    reserved: int = 0,
) -> int:
    """How many candidates one GEMM of :func:`conditional_entropy_sums` scores.

    It fits ``share`` of the budget left after ``reserved`` bytes (the caller's other
    temporaries).

    Per candidate (the :class:`Workspace`): two ``[M, C]`` buffers (conditional probabilities
    and their entropy terms) and three ``[K, C]`` ones (gathered input, probabilities, their
    transpose). Fixed: three ``[M, K]`` arrays (the configurations' joint log-likelihoods, the
    posterior and one temporary) and a few ``[M]`` vectors. Raises when even one candidate does
    not fit.
    """
    fixed = itemsize * (3 * num_configurations * num_posterior_samples + 4 * num_configurations)
    per_candidate = itemsize * num_classes * (2 * num_configurations + 3 * num_posterior_samples)
    available = int((max_memory_bytes - reserved) * share)
    if fixed + per_candidate > available:
        needed = math.ceil((fixed + per_candidate) / share) + reserved
        raise InvalidInputError(
            f"max_memory_bytes must be at least {needed} "
            f"bytes for M = {num_configurations} configurations, K = {num_posterior_samples}, "
            f"C = {num_classes}; got {max_memory_bytes}. Raise the budget or lower num_samples."
        )
    preferred = PREFERRED_BUFFER_BYTES // (itemsize * num_classes * num_configurations)
    return int(max(1, min((available - fixed) // per_candidate, preferred)))


class Workspace:
    """Flat work buffers for scoring ``chunk_size`` candidates against ``rows`` configurations.

    Allocated once and viewed for every chunk: per-chunk allocations of these sizes let glibc's
    heap keep freed blocks (resident memory grew with the pool).
    """

    def __init__(
        self,
        rows: int,
        chunk_size: int,
        log_probs_N_K_C: torch.Tensor,
        dtype: torch.dtype,
    ) -> None:
        """Buffers for ``chunk_size`` candidates against ``rows`` configurations in ``dtype``."""
        num_posterior_samples, num_classes = log_probs_N_K_C.shape[1:]
        per_candidate = num_posterior_samples * num_classes
        self.chunk_size, self.num_posterior_samples, self.num_classes = (
            chunk_size,
            num_posterior_samples,
            num_classes,
        )
        self.gathered = log_probs_N_K_C.new_empty(chunk_size * per_candidate)
        self.probs = log_probs_N_K_C.new_empty(chunk_size * per_candidate, dtype=dtype)
        self.probs_T = log_probs_N_K_C.new_empty(chunk_size * per_candidate, dtype=dtype)
        self.conditional = log_probs_N_K_C.new_empty(rows * chunk_size * num_classes, dtype=dtype)
        self.entropy = log_probs_N_K_C.new_empty(rows * chunk_size * num_classes, dtype=dtype)

    def check_fits(self, rows: int, chunk_size: int, dtype: torch.dtype) -> None:
        """Raise unless ``chunk_size`` candidates against ``rows`` configurations fit.

        A workspace built for fewer rows, fewer candidates or another dtype is misuse.
        """
        per_candidate = self.num_posterior_samples * self.num_classes
        if (
            self.probs.dtype != dtype
            or chunk_size * per_candidate > self.probs.numel()
            or rows * chunk_size * self.num_classes > self.conditional.numel()
        ):
            raise InvalidInputError(
                f"workspace must hold {chunk_size} candidates against {rows} configurations in "
                f"{dtype}; got one for {self.chunk_size} candidates against "
                f"{self.conditional.numel() // max(1, self.chunk_size * self.num_classes)} "
                f"configurations in {self.probs.dtype}"
            )


def conditional_entropy_sums(
    posterior_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    chunk_size: int,
    workspace: Workspace | None = None,
) -> torch.Tensor:
    """Σ_m w_m H[Σ_k posterior[m, k] p(· | x_n, ω_k)] for every n: the candidate term of (★).

    Args:
        posterior_M_K: p(ω_k | ŷ^m), rows summing to 1, compute dtype.
        weights_M: w_m, compute dtype.
        log_probs_N_K_C: candidates' log-probabilities (any float dtype).
        chunk_size: candidates per GEMM (from :func:`candidate_chunk_size`).
        workspace: buffers for at least M rows and ``chunk_size`` candidates to reuse
            (allocated here when None).

    Returns:
        float64 ``[N]``.
    """
    dtype = posterior_M_K.dtype
    num_configs = posterior_M_K.shape[0]
    num_points = log_probs_N_K_C.shape[0]
    chunk_size = min(chunk_size, num_points)
    space = workspace or Workspace(num_configs, chunk_size, log_probs_N_K_C, dtype)
    space.check_fits(num_configs, chunk_size, dtype)
    out = torch.empty(num_points, dtype=torch.float64, device=posterior_M_K.device)
    for start in range(0, num_points, chunk_size):
        stop = min(start + chunk_size, num_points)
        out[start:stop] = _chunk_sums(posterior_M_K, weights_M, log_probs_N_K_C[start:stop], space)
    return out


def _chunk_sums(
    posterior_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_n_K_C: torch.Tensor,
    space: Workspace,
) -> torch.Tensor:
    """:func:`conditional_entropy_sums` of one chunk of candidates, in ``space``'s buffers."""
    num_configs = posterior_M_K.shape[0]
    n, num_posterior_samples, num_classes = log_probs_n_K_C.shape
    size = num_configs * n * num_classes
    conditional_M_nC = space.conditional[:size].view(num_configs, -1)
    entropy_M_nC = space.entropy[:size].view(num_configs, -1)
    # [n, K, C] -> [K, n, C] -> [K, n·C]: one GEMM scores the whole chunk.
    probs = space.probs[: n * num_posterior_samples * num_classes]
    probs_n_K_C = probs.view(n, num_posterior_samples, -1)
    probs_n_K_C.copy_(log_probs_n_K_C).exp_()
    probs_T = space.probs_T[: n * num_posterior_samples * num_classes]
    probs_K_n_C = probs_T.view(num_posterior_samples, n, -1)
    probs_K_n_C.copy_(probs_n_K_C.transpose(0, 1))
    torch.mm(posterior_M_K, probs_K_n_C.view(num_posterior_samples, -1), out=conditional_M_nC)
    neg_entropy_terms_(conditional_M_nC, entropy_M_nC)
    sums_nC = _weighted_row_sum(weights_M, entropy_M_nC)
    return sums_nC.view(n, num_classes).sum(dim=1).double().neg_()


#: Rows summed in the compute dtype before float64 accumulation (see :func:`rounding_bound`).
ACCUMULATION_BLOCK = 64


def _weighted_row_sum(weights_M: torch.Tensor, values_M_R: torch.Tensor) -> torch.Tensor:
    """``weights_M @ values_M_R``, with rounding that grows with a block, not with M.

    Below float64, blocks of ACCUMULATION_BLOCK rows are summed in float64; in float64 it is one
    GEMV.
    """
    num_rows = weights_M.shape[0]
    if values_M_R.dtype == torch.float64 or num_rows <= ACCUMULATION_BLOCK:
        return weights_M @ values_M_R
    blocks = num_rows // ACCUMULATION_BLOCK
    body = blocks * ACCUMULATION_BLOCK
    partial_B_1_R = torch.matmul(
        weights_M[:body].view(blocks, 1, ACCUMULATION_BLOCK),
        values_M_R[:body].view(blocks, ACCUMULATION_BLOCK, -1),
    )
    total_R = partial_B_1_R.sum(dim=0, dtype=torch.float64).squeeze(0)
    if body < num_rows:
        total_R += weights_M[body:] @ values_M_R[body:]
    return total_R


def rounding_bound(
    num_posterior_samples: int, num_classes: int, dtype: torch.dtype, num_rows: int
) -> float:
    """A bound on |computed − exact| of one :func:`conditional_entropy_sums` value.

    The value sums over ``num_rows`` rows (weights summing to ≤ 1).

    Per row, the GEMM's relative error on q = Σ_k π_k p_k is ≤ K·eps (non-negative terms), plus
    eps each from exp, log and the product; |d(q log q)/dq| = |1 + log q| and Σ_y q |1 + log q|
    ≤ 1 + log C, so a row's entropy is off by ≤ (K + 3)·eps·(1 + log C). The weighted sum over
    rows adds ≤ (ACCUMULATION_BLOCK + C)·eps·log C below float64 (blocks in the compute dtype)
    and ≤ M·eps64·log C for the float64 part (all of it in float64). Doubled for safety.
    """
    eps, eps64 = torch.finfo(dtype).eps, torch.finfo(torch.float64).eps
    log_classes = math.log(num_classes)
    per_row = (num_posterior_samples + 3) * eps * (1 + log_classes)
    block = num_rows if dtype == torch.float64 else min(num_rows, ACCUMULATION_BLOCK)
    accumulation = (block + num_classes) * eps * log_classes + num_rows * eps64 * log_classes
    return 2 * (per_row + accumulation)


def conditional_entropy_sums_at(
    posterior_M_K: torch.Tensor,
    weights_M: torch.Tensor,
    log_probs_N_K_C: torch.Tensor,
    candidates: torch.Tensor,
    chunk_size: int,
    workspace: Workspace | None = None,
) -> torch.Tensor:
    """:func:`conditional_entropy_sums` of ``log_probs_N_K_C[candidates]``.

    The candidates are gathered ``chunk_size`` at a time into the workspace, so memory stays
    within the budget.
    """
    if not len(candidates):
        return torch.zeros(0, dtype=torch.float64, device=candidates.device)
    chunk_size = min(chunk_size, len(candidates))
    space = workspace or Workspace(
        posterior_M_K.shape[0], chunk_size, log_probs_N_K_C, posterior_M_K.dtype
    )
    num_posterior_samples, num_classes = log_probs_N_K_C.shape[1:]
    out = torch.empty(len(candidates), dtype=torch.float64, device=candidates.device)
    for start in range(0, len(candidates), chunk_size):
        piece = candidates[start : start + chunk_size]
        gathered = space.gathered[: len(piece) * num_posterior_samples * num_classes]
        gathered_n_K_C = gathered.view(len(piece), num_posterior_samples, num_classes)
        torch.index_select(log_probs_N_K_C, 0, piece, out=gathered_n_K_C)
        out[start : start + len(piece)] = conditional_entropy_sums(
            posterior_M_K,
            weights_M,
            gathered_n_K_C,
            chunk_size,
            space,
        )
    return out
