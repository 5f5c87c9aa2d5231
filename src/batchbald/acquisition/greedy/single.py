"""BatchBALD's objective: one term, a(A) = I(y_A; ω) = H(y_A) − Σ_{a∈A} E_ω H(y_a | ω).

The gain Δ(c | A) = Σ_m w_m H[p(· | ŷ^m, x_c)] − E_ω H(y_c | ω) (Kirsch, van Amersfoort, Gal
2019, eq. 8 and appendix C) is monotone submodular in A, so exact-phase gains bound later ones.
Each lazy step also bounds every candidate from configurations merged by the mode of their
posterior p(ω | ŷ^m) (Jensen: ≤ K rows instead of M), and the candidates about to be scored
from a finer merge (mode × REFINE_BINS intervals of its probability); see ``docs/greedy.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition.greedy.gains import Workspace, candidate_chunk_size, rounding_bound
from batchbald.acquisition.greedy.grouping import (
    COARSEN_MIN_RATIO,
    REFINE_BINS,
    coarsen_by_posterior_mode,
)
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.acquisition.greedy.terms import Term
from batchbald.errors import InvalidInputError

__all__ = ["SingleTermObjective", "Workspaces"]

#: The bounds only order and prune candidates, so float32 is enough where they have many rows;
#: the slack covers the rounding of their sums (gains.rounding_bound). With at most
#: COARSE_F64_MAX_ROWS rows they are cheap in float64, whose slack is ~1e-12: once the joint MI
#: saturates, gains cluster within the float32 slack, which would stop all pruning.
COARSE_DTYPE = torch.float32
COARSE_F64_MAX_ROWS = 512
#: Shares of max_memory_bytes for the exact-gain and the bound workspaces.
FINE_SHARE, COARSE_SHARE = 0.45, 0.15


@dataclass(frozen=True)
class Workspaces:
    """The work buffers of one greedy call, allocated once.

    ``fine`` holds the exact gains' temporaries (up to M rows, compute dtype, FINE_SHARE of the
    budget), ``coarse`` the bounds' (up to K · REFINE_BINS rows, COARSE_SHARE; float64 up to
    COARSE_F64_MAX_ROWS rows, else COARSE_DTYPE); the rest of the budget covers the per-point
    pass, the configurations' sampling and small temporaries.
    """

    fine: Workspace
    coarse: Workspace

    @classmethod
    def allocate(
        cls,
        log_probs_N_K_C: torch.Tensor,
        options: GreedyOptions,
        batch_size: int,
        coarse_dtype: torch.dtype | None = None,
    ) -> Workspaces:
        """Buffers for the largest step of a ``batch_size`` batch.

        ``coarse_dtype`` is the bounds' dtype: by default float64 up to COARSE_F64_MAX_ROWS rows,
        else COARSE_DTYPE.
        """
        num_points, num_posterior_samples, num_classes = log_probs_N_K_C.shape
        sampled = options.sampled(num_classes, batch_size - 1)
        max_rows = options.num_samples if sampled else num_classes ** max(batch_size - 1, 0)
        # Sampling M configurations of up to b - 1 points keeps int64 [M, b] labels and the
        # copies torch.unique sorts them with (≈ 3 copies): reserved before the shares.
        reserved = 4 * 8 * options.num_samples * (batch_size - 1) if sampled else 0

        def workspace(rows: int, dtype: torch.dtype, share: float) -> Workspace:
            itemsize = torch.empty(0, dtype=dtype).element_size()
            chunk = candidate_chunk_size(
                rows, num_posterior_samples, num_classes, itemsize,
                options.max_memory_bytes, share, reserved,
            )  # fmt: skip
            return Workspace(rows, min(chunk, num_points), log_probs_N_K_C, dtype)

        fine = workspace(max_rows, options.dtype, FINE_SHARE)
        coarse_rows = min(num_posterior_samples * REFINE_BINS, max_rows)
        if coarse_dtype is None:
            small = coarse_rows <= COARSE_F64_MAX_ROWS
            coarse_dtype = torch.float64 if small else COARSE_DTYPE
        try:
            coarse = workspace(coarse_rows, coarse_dtype, COARSE_SHARE)
        except InvalidInputError:
            # Budgets this small still get the bounds, one candidate at a time (≤ 1 MB over).
            coarse = Workspace(coarse_rows, 1, log_probs_N_K_C, coarse_dtype)
        return cls(fine, coarse)


class Rows:
    """Δ(c | A) (or an upper bound on it) from a set of configuration rows in a workspace."""

    def __init__(self, posterior_M_K, weights_M, term: Term, space: Workspace, slack=0.0):
        self.posterior_M_K, self.weights_M, self.term = posterior_M_K, weights_M, term
        self.space, self.slack = space, slack
        # As many candidates per GEMM as the workspace holds for this many rows.
        num_classes = term.log_probs_N_K_C.shape[2]
        capacity = space.conditional.numel() // (self.num_rows * num_classes)
        self.chunk = max(1, min(space.chunk_size, capacity))

    @property
    def num_rows(self) -> int:
        """The configurations (or groups) summed over."""
        return int(self.posterior_M_K.shape[0])

    def __call__(self, candidates: torch.Tensor) -> torch.Tensor:
        """The gains (or bounds) of ``candidates``, float64 ``[n]``."""
        sums = je.conditional_entropy_sums_at(
            self.posterior_M_K, self.weights_M, self.term.log_probs_N_K_C, candidates,
            self.chunk, self.space,
        )  # fmt: skip
        return sums - self.term.penalty_N[candidates] + self.slack

    def merged(self, bins: int, space: Workspace) -> Rows:
        """Upper bounds from :func:`coarsen_by_posterior_mode` rows, in ``space``'s dtype.

        They are padded by :func:`rounding_bound` of their sums and of the exact gains'.
        """
        dtype = space.probs.dtype
        merged = coarsen_by_posterior_mode(self.posterior_M_K, self.weights_M, bins=bins)
        posterior_G_K, weights_G = (part.to(dtype) for part in merged)
        num_posterior_samples, num_classes = self.term.log_probs_N_K_C.shape[1:]
        exact_dtype = self.posterior_M_K.dtype
        slack = rounding_bound(num_posterior_samples, num_classes, exact_dtype, self.num_rows)
        slack += rounding_bound(num_posterior_samples, num_classes, dtype, len(weights_G))
        return Rows(posterior_G_K, weights_G, self.term, space, slack)


class _MergedBounds:
    """BatchBALD's step bounds: mode groups for every candidate, a finer merge per block."""

    carried = True  # bounds on Δ(c | A) also bound Δ(c | A') for A' ⊇ A (submodularity)

    def __init__(self, exact: Rows, space: Workspace) -> None:
        self.coarse = exact.merged(1, space)
        refine = exact.merged(REFINE_BINS, space)
        # Barely cheaper than the exact gains: not worth it.
        self.refine = None if refine.num_rows * COARSEN_MIN_RATIO > exact.num_rows else refine

    def initial(self, candidates: torch.Tensor) -> torch.Tensor:
        return self.coarse(candidates)

    def reorder(self, permutation: torch.Tensor) -> None:
        pass

    def next_stage(self, start, order, upper, best):
        return None

    def prune(self, block: torch.Tensor, upper: torch.Tensor, best: float):
        if self.refine is None:
            return block, upper
        return block, torch.minimum(upper, self.refine(block))


class SingleTermObjective:
    """a(A) = I(y_A; ω): BatchBALD's greedy objective."""

    def __init__(
        self,
        log_probs_N_K_C: torch.Tensor,
        first: tuple[torch.Tensor, torch.Tensor],
        options: GreedyOptions,
        batch_size: int,
        coarse_dtype: torch.dtype | None = None,
    ) -> None:
        """The objective of one call.

        Args:
            log_probs_N_K_C: the pool's log-probabilities.
            first: BALD and E_ω H(y | ω) per point, float64 ``[N]`` each.
            options: the call's options.
            batch_size: b.
            coarse_dtype: the bounds' dtype (see :class:`Workspaces`).
        """
        self.bald_N, conditional_entropy_N = first
        self.term = Term.empty(log_probs_N_K_C, conditional_entropy_N, options.dtype)
        self.options, self.num_points = options, log_probs_N_K_C.shape[0]
        self.spaces = (
            Workspaces.allocate(log_probs_N_K_C, options, batch_size, coarse_dtype)
            if batch_size > 1
            else None
        )
        self.exact_rows: Rows | None = None

    def first_gains(self) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.first_gains`."""
        return self.bald_N, self.bald_N  # Δ(c | ∅) = BALD(c)

    def advance(self, picks: list[int], step: int) -> bool:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.advance`."""
        term, options = self.term, self.options
        log_probs = term.log_probs_N_K_C
        if options.sampled(log_probs.shape[2], step):
            configs = je.sample_configurations(
                log_probs[picks], options.num_samples, generator=options.generator,
                dtype=options.dtype,
            )  # fmt: skip
            term.set_configurations(configs)
        else:
            term.extend_exact(picks[-1])
        self.exact_rows = Rows(term.posterior_M_K, term.weights_M, term, self.spaces.fine)
        return term.configs.exact

    def batch_score(self, picks: list[int]) -> float:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.batch_score`."""
        return self.term.batch_score(picks)

    def step_bounds(self, candidates: torch.Tensor) -> _MergedBounds | None:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.step_bounds`."""
        rows = self.exact_rows
        num_posterior_samples = self.term.log_probs_N_K_C.shape[1]
        if rows.num_rows < COARSEN_MIN_RATIO * num_posterior_samples:
            return None
        return _MergedBounds(rows, self.spaces.coarse)

    def gains(self, block: torch.Tensor, best: float, lazy: bool):
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.gains`."""
        gains = self.exact_rows(block)
        return gains, block, gains
