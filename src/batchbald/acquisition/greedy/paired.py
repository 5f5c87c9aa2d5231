"""The evaluation rules' objective: a(A) = f_train(A) − f_eval(A) (Kirsch & Gal 2021).

f(A) = H(y_A) (BatchEIG, λ = 0) or I(y_A; ω) = H(y_A) − Σ_a E_ω H(y_a | ω) (BatchEvaluationBALD,
λ = 1), each from its own model's log-probabilities of the same pool. a itself is not
submodular; the bounds below are proved in ``docs/greedy.md``: carried ones from the training
term's submodularity and a floor on the evaluation term (exact phase), per-step ones from
grouped configurations of both models (:mod:`~batchbald.acquisition.greedy.pair_bounds`), and a
concavity bound that skips the evaluation model's GEMM where it cannot change the pick.
"""

from __future__ import annotations

import math

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition.greedy.engine import TIE_TOLERANCE
from batchbald.acquisition.greedy.gains import candidate_chunk_size
from batchbald.acquisition.greedy.grouping import COARSEN_MIN_RATIO
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.acquisition.greedy.pair_bounds import REFINE_MIN_RATIO, StagedGroupBounds
from batchbald.acquisition.greedy.terms import Term, sample_entropies
from batchbald.acquisition.scores import entropy

__all__ = ["PairedObjective"]


class PairedObjective:
    """a(A) = f_train(A) − f_eval(A): the evaluation rules' greedy objective."""

    def __init__(
        self,
        pair: tuple[torch.Tensor, torch.Tensor],
        weight: float,
        options: GreedyOptions,
        refine_min_ratio: float = REFINE_MIN_RATIO,
    ) -> None:
        """The objective of one call.

        Args:
            pair: the training and the evaluation model's log-probabilities, ``[N, K, C]`` each.
            weight: λ.
            options: the call's options.
            refine_min_ratio: use a finer group bound when the exact gains have at least this
                many times its rows.
        """
        self.weight, self.options, self.refine_min_ratio = weight, options, refine_min_ratio
        #: (term, candidates) of every refinement stage run: "train_upper" or "eval_lower".
        self.refined: list[tuple[str, int]] = []
        self.num_points = pair[0].shape[0]
        self.sample_entropies = [sample_entropies(log_probs) for log_probs in pair]
        self.train, self.evaluation = (
            Term.empty(log_probs, weight * sample_entropy.mean(dim=1), options.dtype)
            for log_probs, sample_entropy in zip(pair, self.sample_entropies, strict=True)
        )
        # Δ_eval(c | A) ≥ floor(c) for genuine distributions (exact phase; docs/greedy.md (i)).
        self.floor_N = (1.0 - weight) * self.sample_entropies[1].mean(dim=1)
        self.chunk = 1

    def first_gains(self) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.first_gains`."""
        train_gains_N, eval_gains_N = (
            entropy(term.log_probs_N_K_C) - term.penalty_N for term in (self.train, self.evaluation)
        )
        return train_gains_N - eval_gains_N, train_gains_N - self.floor_N

    def advance(self, picks: list[int], step: int) -> bool:
        """Extend both exact enumerations, or draw M configurations under train and reweight."""
        train, evaluation, options = self.train, self.evaluation, self.options
        if not options.sampled(train.log_probs_N_K_C.shape[2], step):
            # Each model enumerates its own support (rescoring would miss configurations that
            # are impossible under train but possible under eval).
            train.extend_exact(picks[-1])
            evaluation.extend_exact(picks[-1])
        else:
            configs = je.sample_configurations(
                train.log_probs_N_K_C[picks], options.num_samples, generator=options.generator,
                dtype=options.dtype,
            )  # fmt: skip
            train.set_configurations(configs)
            rescored = je.rescore(configs, evaluation.log_probs_N_K_C[picks])
            # Self-normalised importance weights w_m = r_m / Σ r_m', r_m = p_eval / p_train.
            log_weights_M = rescored.log_weights_M - torch.logsumexp(rescored.log_weights_M, 0)
            evaluation.set_configurations(
                je.LabelConfigurations(
                    rescored.labels_M_A, rescored.log_joint_M_K, log_weights_M,
                    rescored.log_proposal_M,
                )
            )  # fmt: skip
        log_probs = train.log_probs_N_K_C
        self.chunk = candidate_chunk_size(
            train.num_configurations, log_probs.shape[1], log_probs.shape[2],
            torch.finfo(options.dtype).bits // 8, options.max_memory_bytes,
        )  # fmt: skip
        return train.configs.exact

    def batch_score(self, picks: list[int]) -> float:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.batch_score`."""
        return self.train.batch_score(picks) - self.evaluation.batch_score(picks)

    def step_bounds(self, candidates: torch.Tensor) -> StagedGroupBounds | None:
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.step_bounds`."""
        num_configs = min(self.train.num_configurations, self.evaluation.num_configurations)
        if num_configs < COARSEN_MIN_RATIO * self.train.log_probs_N_K_C.shape[1]:
            return None
        max_rows = num_configs / self.refine_min_ratio if self.refine_min_ratio else math.inf
        return StagedGroupBounds(self, max_rows)

    def gains(self, block: torch.Tensor, best: float, lazy: bool):
        """See :meth:`~batchbald.acquisition.greedy.engine.Objective.gains`."""
        train_gains = self.train.gains(block, self.chunk)
        carry = train_gains - self.floor_N[block]
        if lazy:  # concavity: skip the eval GEMM where it cannot change the pick
            ceiling = train_gains - self._eval_lower_bounds(block)
            keep = ceiling + TIE_TOLERANCE >= best
            block, train_gains = block[keep], train_gains[keep]
        if not len(block):
            return train_gains, block, carry
        return train_gains - self.evaluation.gains(block, self.chunk), block, carry

    def _eval_lower_bounds(self, candidates: torch.Tensor) -> torch.Tensor:
        """L(c) = Σ_k (v_k − λ/K) h_k(c) ≤ the computed Δ_eval(c | A) (concavity)."""
        evaluation = self.evaluation
        v_K = (evaluation.weights_M @ evaluation.posterior_M_K).double()
        return self.sample_entropies[1][candidates] @ (v_K - self.weight / v_K.numel())
