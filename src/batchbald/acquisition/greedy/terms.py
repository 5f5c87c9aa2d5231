"""One model's term of the greedy gain, and the label configurations of the batch under it.

For a model with log-probabilities ``log_probs_N_K_C`` and a penalty π(c) per pool point, the
term of a candidate c given the batch A is

    Δ(c | A) = H(y_c | y_A) − π(c) ≈ Σ_m w_m H[p(· | ŷ^m, x_c)] − π(c)

over configurations ŷ^m of y_A with weights w_m (:mod:`batchbald.acquisition.joint_entropy`).
BatchBALD's term has π(c) = E_ω H(y_c | ω); the evaluation rules use π = λ E_ω H(y_c | ω),
λ ∈ {0, 1}.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS, row_slices
from batchbald.acquisition.greedy.gains import Workspace, conditional_entropy_sums_at
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.acquisition.numerics import plogp_sums
from batchbald.errors import FewSamplesWarning

__all__ = ["Term", "sample_entropies", "warn_few_samples"]


@dataclass
class Term:
    """One model's pool tensors and the configurations of the current batch under it.

    Attributes:
        log_probs_N_K_C: the model's log-probabilities of the pool.
        penalty_N: π(c), float64 ``[N]``.
        configs: the configurations of the current batch (at first, of the empty batch).
        posterior_M_K: p(ω_k | ŷ^m) of ``configs``, cached per greedy step.
        weights_M: w_m of ``configs``.
    """

    log_probs_N_K_C: torch.Tensor
    penalty_N: torch.Tensor
    configs: je.LabelConfigurations
    posterior_M_K: torch.Tensor | None = None
    weights_M: torch.Tensor | None = None

    @classmethod
    def empty(cls, log_probs_N_K_C: torch.Tensor, penalty_N: torch.Tensor, dtype: torch.dtype):
        """The term before the first pick (one empty configuration)."""
        configs = je.empty_configurations(
            log_probs_N_K_C.shape[1], dtype=dtype, device=log_probs_N_K_C.device
        )
        return cls(log_probs_N_K_C, penalty_N, configs)

    @property
    def num_configurations(self) -> int:
        """M, the configurations of the current batch."""
        return self.configs.num_configurations

    def set_configurations(self, configs: je.LabelConfigurations) -> None:
        """Use ``configs`` for this greedy step (and cache their posteriors and weights)."""
        self.configs = configs
        self.posterior_M_K = configs.posterior_M_K()
        self.weights_M = configs.log_weights_M.exp()

    def extend_exact(self, pick: int) -> None:
        """The exact configurations of the batch plus ``pick``."""
        self.set_configurations(je.extend_exact(self.configs, self.log_probs_N_K_C[pick]))

    def batch_score(self, picks: list[int]) -> float:
        """f(A) = H(y_A) − Σ_{a∈A} π(a) under the current configurations."""
        if not picks:
            return 0.0
        return self.configs.entropy() - float(self.penalty_N[picks].sum())

    def gains(
        self, candidates: torch.Tensor, chunk: int, workspace: Workspace | None = None
    ) -> torch.Tensor:
        """Δ(c | A) for the given candidates, float64 ``[n]``."""
        sums = conditional_entropy_sums_at(
            self.posterior_M_K, self.weights_M, self.log_probs_N_K_C, candidates, chunk, workspace
        )
        return sums - self.penalty_N[candidates]


def sample_entropies(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """H[p(· | x_n, ω_k)] for every n and k, float64 ``[N, K]``, in bounded pool slices."""
    num_points, num_posterior_samples, num_classes = log_probs_N_K_C.shape
    out = torch.empty(
        num_points, num_posterior_samples, dtype=torch.float64, device=log_probs_N_K_C.device
    )
    row_elements = num_posterior_samples * num_classes
    for rows in row_slices(num_points, DEFAULT_CHUNK_ELEMENTS // row_elements):
        log_probs = log_probs_N_K_C[rows].double()  # a view of float64 input: not written to
        probs = log_probs.exp()  # contiguous, whatever the input's strides
        sums = plogp_sums(log_probs.reshape(-1, num_classes), probs.view(-1, num_classes))
        out[rows] = sums.view(-1, num_posterior_samples).neg_()
    return out


def warn_few_samples(log_probs_N_K_C: torch.Tensor, batch_size: int, options: GreedyOptions):
    """Warn (once per call) when a sampled step will use M < 10·K configurations."""
    num_posterior_samples, num_classes = log_probs_N_K_C.shape[1:]
    if batch_size > 1 and options.sampled(num_classes, batch_size - 1):
        if options.num_samples < 10 * num_posterior_samples:
            warnings.warn(
                f"num_samples = {options.num_samples} < 10·K = {10 * num_posterior_samples} in "
                "the sampled phase: joint entropy estimates are noisy. Raise num_samples.",
                FewSamplesWarning,
                stacklevel=3,
            )
