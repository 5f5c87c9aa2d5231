"""Upper bounds on one step's gain of the evaluation rules, from grouped configurations.

Per group g of configurations (merged by posterior mode, optionally × intervals of its
probability), the training term is bounded above by Jensen's inequality and the evaluation term
below by data processing and concavity (``docs/greedy.md``, "Group bounds"). Every candidate
gets the mode-group bound; once an exact block has set a best gain, the candidates still in
play get finer ones, one term at a time (REFINE_STAGES), with an exact block between stages.
These bounds hold for this step only (a later step's Δ_eval can be smaller): never carried.
"""

from __future__ import annotations

import math

import torch

from batchbald.acquisition.greedy import gains as gain_maths
from batchbald.acquisition.greedy.engine import TIE_TOLERANCE
from batchbald.acquisition.greedy.grouping import (
    REFINE_BINS,
    coarsen_by_posterior_mode,
    group_by_posterior_mode,
)
from batchbald.acquisition.numerics import entropy_rows

__all__ = ["REFINE_MIN_RATIO", "REFINE_STAGES", "GroupBounds", "StagedGroupBounds"]

#: The finer bounds' stages, in order: (probability intervals per posterior mode, True for the
#: evaluation term / False for the training term). The finer evaluation term is the one that
#: prunes; the training term goes through 8 intervals (a fifth of the cost of 64, most of its
#: pruning) before 64 (measured in docs/benchmarks/acquisition_report.md).
REFINE_STAGES = ((4 * REFINE_BINS, True), (REFINE_BINS // 2, False), (4 * REFINE_BINS, False))
#: Use a finer group bound when the exact gains have at least this many times its rows.
REFINE_MIN_RATIO = 2


class GroupBounds:
    """The two terms of the group bound at one grouping (``bins`` intervals per mode)."""

    def __init__(self, objective, bins: int) -> None:
        """The group bounds of ``objective``'s current step at ``bins`` intervals per mode."""
        self.objective = objective
        train, evaluation = objective.train, objective.evaluation
        self.exact = train.configs.exact and evaluation.configs.exact
        self.train_groups = coarsen_by_posterior_mode(
            train.posterior_M_K, train.weights_M, bins=bins
        )
        self.eval_groups = group_by_posterior_mode(
            evaluation.posterior_M_K, evaluation.weights_M, bins=bins
        )
        posterior_G_K, weights_G, group_M = self.eval_groups
        # I_g(M; K) = H[π̄_g] − Σ_{m∈g} (w_m / W_g) H[π_m], float64, ≥ 0 up to rounding.
        weighted_M = evaluation.weights_M.double() * entropy_rows(evaluation.posterior_M_K.double())
        kept = group_M >= 0
        members_G = weighted_M.new_zeros(len(weights_G)).index_add_(
            0, group_M[kept], weighted_M[kept]
        )
        information_G = entropy_rows(posterior_G_K.double()) - members_G / weights_G.double()
        self.information_G = information_G.clamp_min_(0.0)
        self.num_rows = max(len(self.train_groups[1]), len(weights_G))
        log_probs, options = train.log_probs_N_K_C, objective.options
        num_posterior_samples, num_classes = log_probs.shape[1:]
        itemsize = torch.finfo(options.dtype).bits // 8
        self.chunk = gain_maths.candidate_chunk_size(
            self.num_rows, num_posterior_samples, num_classes, itemsize, options.max_memory_bytes
        )
        # Rounding: four sums over ≤ M rows (the exact gain's two, the bound's two) and the
        # float64 information terms.
        num_configs = max(term.weights_M.numel() for term in (train, evaluation))
        self.slack = 4 * gain_maths.rounding_bound(
            num_posterior_samples, num_classes, options.dtype, num_configs
        )
        eps64 = torch.finfo(torch.float64).eps
        self.slack += 4 * num_posterior_samples * eps64 * math.log(num_posterior_samples)

    def __call__(self, candidates: torch.Tensor) -> torch.Tensor:
        """Bounds ≥ gain(c | A) for ``candidates``, float64 ``[n]``."""
        return self.train_upper(candidates) - self.eval_lower(candidates) + self.slack

    def train_upper(self, candidates: torch.Tensor) -> torch.Tensor:
        """≥ Δ_train(c | A) up to ``slack`` (Jensen over the groups), float64 ``[n]``."""
        train = self.objective.train
        posterior_G_K, weights_G = self.train_groups
        sums = gain_maths.conditional_entropy_sums_at(
            posterior_G_K, weights_G, train.log_probs_N_K_C, candidates, self.chunk
        )
        return sums - train.penalty_N[candidates]

    def eval_lower(self, candidates: torch.Tensor) -> torch.Tensor:
        """≤ Δ_eval(c | A) up to ``slack`` (data processing and concavity), float64 ``[n]``."""
        objective = self.objective
        eval_lower = self._eval_lower_sums(candidates) - objective.evaluation.penalty_N[candidates]
        if self.exact:  # the floor holds for genuine distributions, not for sampled estimates
            eval_lower = torch.maximum(eval_lower, objective.floor_N[candidates])
        return eval_lower

    def _eval_lower_sums(self, candidates: torch.Tensor) -> torch.Tensor:
        """Σ_g W_g max(H[q̄_g(c)] − I_g, Σ_k π̄_gk h_k(c)) ≤ Σ_m w_m H[q_m(c)], float64 ``[n]``."""
        posterior_G_K, weights_G, _ = self.eval_groups
        information_G = self.information_G.to(posterior_G_K.dtype)
        log_probs = self.objective.evaluation.log_probs_N_K_C
        sample_entropy_N_K = self.objective.sample_entropies[1]
        out = torch.empty(len(candidates), dtype=torch.float64, device=candidates.device)
        for start in range(0, len(candidates), self.chunk):
            piece = candidates[start : start + self.chunk]
            # In the compute dtype: both terms' rounding is within rounding_bound's per-row term.
            rows_G_n = gain_maths.conditional_entropy_rows(posterior_G_K, log_probs[piece])
            rows_G_n.sub_(information_G[:, None])
            aleatoric_G_n = posterior_G_K @ sample_entropy_N_K[piece].T.to(posterior_G_K.dtype)
            torch.maximum(rows_G_n, aleatoric_G_n, out=rows_G_n)
            out[start : start + len(piece)] = weights_G.double() @ rows_G_n.double()
        return out


class StagedGroupBounds:
    """The evaluation rules' :class:`~batchbald.acquisition.greedy.engine.StepBounds`."""

    carried = False

    def __init__(self, objective, max_rows: float) -> None:
        """Bounds of ``objective``'s current step; finer levels only up to ``max_rows`` rows."""
        self.objective = objective
        self.coarse = GroupBounds(objective, 1)
        levels: dict[int, GroupBounds] = {}
        self.stages: list[tuple[GroupBounds, bool]] = []
        for bins, evaluation_term in REFINE_STAGES:
            if bins not in levels:
                levels[bins] = GroupBounds(objective, bins)
            if levels[bins].num_rows <= max_rows:
                self.stages.append((levels[bins], evaluation_term))
        self.train_upper = self.eval_lower = torch.empty(0)

    def initial(self, candidates: torch.Tensor) -> torch.Tensor:
        """See :meth:`~batchbald.acquisition.greedy.engine.StepBounds.initial`."""
        self.train_upper = self.coarse.train_upper(candidates)
        self.eval_lower = self.coarse.eval_lower(candidates)
        return self.train_upper - self.eval_lower + self.coarse.slack

    def reorder(self, permutation: torch.Tensor) -> None:
        """See :meth:`~batchbald.acquisition.greedy.engine.StepBounds.reorder`."""
        self.train_upper = self.train_upper[permutation]
        self.eval_lower = self.eval_lower[permutation]

    def next_stage(self, start, order, upper, best):
        """Drop the candidates that cannot beat ``best``, tighten one term of the rest.

        Any valid upper term minus any valid lower term (plus the slack) bounds the gain, so
        each term keeps its tightest value over all levels so far.
        """
        if not self.stages:
            return None
        level, evaluation_term = self.stages.pop(0)
        in_play = upper[start:] + TIE_TOLERANCE >= best
        order, upper = order[start:][in_play], upper[start:][in_play]
        train_upper, eval_lower = (
            self.train_upper[start:][in_play],
            self.eval_lower[start:][in_play],
        )
        self.objective.refined.append(
            ("eval_lower" if evaluation_term else "train_upper", len(order))
        )
        if evaluation_term:
            eval_lower = torch.maximum(eval_lower, level.eval_lower(order))
        else:
            train_upper = torch.minimum(train_upper, level.train_upper(order))
        upper = torch.minimum(upper, train_upper - eval_lower + level.slack)
        ranked = torch.sort(upper, descending=True, stable=True)
        self.train_upper, self.eval_lower = train_upper[ranked.indices], eval_lower[ranked.indices]
        return order[ranked.indices], ranked.values

    def prune(self, block: torch.Tensor, upper: torch.Tensor, best: float):
        """Nothing to tighten per block: the stages refine every candidate in play."""
        return block, upper
