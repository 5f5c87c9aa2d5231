"""Joint entropies of label batches under an ensemble of K posterior samples.

For a batch A of pool points, the K samples ω_k define p(y_A | ω_k) = Π_{i∈A} p(y_i | x_i, ω_k)
and the predictive p(y_A) = (1/K) Σ_k p(y_A | ω_k). Everything here represents a set of label
configurations ŷ^m of A (all C^|A| of them, or M samples) with estimator weights w_m such that

    H(y_A)       ≈ -Σ_m w_m log p(ŷ^m)
    H(y_A, y_n)  ≈ -Σ_m w_m Σ_y p(y | ŷ^m, x_n) log p(ŷ^m, y)
                 =  H(y_A) + Σ_m w_m H[p(· | ŷ^m, x_n)],                                   (★)

where p(y | ŷ^m, x_n) = Σ_k p(ω_k | ŷ^m) p(y | x_n, ω_k) and p(ω_k | ŷ^m) ∝ p(ŷ^m | ω_k).
(★) uses Σ_y p(y | ŷ^m) = 1. The weights are

    exact enumeration:         w_m = p(ŷ^m)                      (the sum is the definition);
    M draws ŷ^m ~ q(y_A):      w_m = p(ŷ^m) / (M q(ŷ^m))         (importance sampling),

so with q = p (BatchBALD, Kirsch et al. 2019, appendix C) w_m = 1/M. The candidate term of (★) for
all candidates is one GEMM per chunk, ``posterior_M_K @ probs_K_(n·C)``, then an entropy reduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from batchbald.acquisition.greedy.gains import (
    Workspace,
    candidate_chunk_size,
    conditional_entropy_rows,
    conditional_entropy_sums,
    conditional_entropy_sums_at,
    rounding_bound,
)
from batchbald.acquisition.greedy.grouping import coarsen_by_posterior_mode, group_by_posterior_mode
from batchbald.errors import InvalidInputError

__all__ = [
    "LabelConfigurations",
    "Workspace",
    "candidate_chunk_size",
    "coarsen_by_posterior_mode",
    "conditional_entropy_rows",
    "conditional_entropy_sums",
    "conditional_entropy_sums_at",
    "empty_configurations",
    "enumerate_configurations",
    "extend_exact",
    "group_by_posterior_mode",
    "joint_entropies_with_candidates",
    "rescore",
    "rounding_bound",
    "sample_configurations",
]


@dataclass(frozen=True)
class LabelConfigurations:
    """Label configurations ŷ^m of a batch A and their estimator weights.

    Attributes:
        labels_M_A: int64 ``[M, A]``, the labels of the A batch points in each configuration.
        log_joint_M_K: ``[M, K]``, log p(ŷ^m | ω_k) = Σ_i log p(ŷ^m_i | x_i, ω_k).
        log_weights_M: ``[M]``, log w_m (see the module docstring).
        log_proposal_M: ``[M]``, log q(ŷ^m) of the distribution the configurations were drawn
            from, or None for an exact enumeration.
    """

    labels_M_A: torch.Tensor
    log_joint_M_K: torch.Tensor
    log_weights_M: torch.Tensor
    log_proposal_M: torch.Tensor | None

    @property
    def exact(self) -> bool:
        """True for an exact enumeration of every configuration with p(ŷ) > 0."""
        return self.log_proposal_M is None

    @property
    def num_configurations(self) -> int:
        """M, the number of configurations."""
        return int(self.log_joint_M_K.shape[0])

    @property
    def log_marginal_M(self) -> torch.Tensor:
        """Log p(ŷ^m) = log (1/K) Σ_k p(ŷ^m | ω_k), ``[M]``."""
        return torch.logsumexp(self.log_joint_M_K, dim=1) - math.log(self.log_joint_M_K.shape[1])

    def entropy(self) -> float:
        """The (estimated) joint entropy H(y_A) = -Σ_m w_m log p(ŷ^m), in nats."""
        return float(-(self.log_weights_M.exp() * self.log_marginal_M).sum())

    def posterior_M_K(self) -> torch.Tensor:
        """p(ω_k | ŷ^m): each row of the joint likelihoods normalised over K."""
        return torch.softmax(self.log_joint_M_K, dim=1)


def empty_configurations(
    num_posterior_samples: int,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> LabelConfigurations:
    """The single (empty) configuration of an empty batch: H = 0, posterior uniform over ω."""
    return LabelConfigurations(
        labels_M_A=torch.zeros(1, 0, dtype=torch.long, device=device),
        log_joint_M_K=torch.zeros(1, num_posterior_samples, dtype=dtype, device=device),
        log_weights_M=torch.zeros(1, dtype=dtype, device=device),
        log_proposal_M=None,
    )


def extend_exact(configs: LabelConfigurations, log_probs_K_C: torch.Tensor) -> LabelConfigurations:
    """Exact configurations of A ∪ {x} from those of A: every ŷ^m paired with every class y.

    Configurations of probability 0 under every ω_k are dropped (they contribute nothing), which
    keeps the enumeration free of -inf weights.

    Args:
        configs: an exact enumeration for A (``configs.exact``).
        log_probs_K_C: log p(y | x, ω_k) of the new point, ``[K, C]``.
    """
    if not configs.exact:
        raise InvalidInputError("extend_exact needs exact configurations; got sampled ones")
    num_configs, num_posterior_samples = configs.log_joint_M_K.shape
    num_classes = log_probs_K_C.shape[1]
    log_probs = log_probs_K_C.to(configs.log_joint_M_K.dtype)
    # [M, 1, K] + [1, C, K] -> [M, C, K] -> [M·C, K]; row m·C + y is (ŷ^m, y).
    log_joint = (configs.log_joint_M_K[:, None, :] + log_probs.T[None, :, :]).reshape(
        -1, num_posterior_samples
    )
    labels = torch.cat(
        [
            configs.labels_M_A.repeat_interleave(num_classes, dim=0),
            torch.arange(num_classes, device=log_joint.device).repeat(num_configs)[:, None],
        ],
        dim=1,
    )
    possible = torch.isfinite(log_joint).any(dim=1)
    log_joint, labels = log_joint[possible], labels[possible]
    log_marginal = torch.logsumexp(log_joint, dim=1) - math.log(num_posterior_samples)
    return LabelConfigurations(labels, log_joint, log_marginal, None)


def enumerate_configurations(
    log_probs_A_K_C: torch.Tensor, *, dtype: torch.dtype = torch.float64
) -> LabelConfigurations:
    """All C^A label configurations of a batch (those with p > 0), exactly weighted."""
    configs = empty_configurations(
        log_probs_A_K_C.shape[1], dtype=dtype, device=log_probs_A_K_C.device
    )
    for log_probs_K_C in log_probs_A_K_C:
        configs = extend_exact(configs, log_probs_K_C)
    return configs


def _log_joint_of_labels(
    log_probs_A_K_C: torch.Tensor, labels_M_A: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """Log p(ŷ^m | ω_k) = Σ_i log p(ŷ^m_i | x_i, ω_k) for given labels: ``[M, K]``."""
    num_configs = labels_M_A.shape[0]
    log_joint = torch.zeros(
        num_configs, log_probs_A_K_C.shape[1], dtype=dtype, device=labels_M_A.device
    )
    for point, log_probs_K_C in enumerate(log_probs_A_K_C):
        # [K, C] gathered at [M] labels -> [K, M] -> [M, K]
        log_joint += log_probs_K_C.to(dtype)[:, labels_M_A[:, point]].T
    return log_joint


def sample_configurations(
    log_probs_A_K_C: torch.Tensor,
    num_configurations: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> LabelConfigurations:
    """M label configurations drawn from the predictive p(y_A) = (1/K) Σ_k p(y_A | ω_k).

    Each draw picks a posterior sample ω_k, then labels ŷ_i ~ p(y_i | x_i, ω_k) independently.
    The ω_k are stratified: every k is used ⌊M/K⌋ times and the remaining M mod K draws pick
    k uniformly without replacement, which lowers the variance at no cost. The weights are 1/M
    (proposal = predictive; see the module docstring); repeated draws are merged into one
    configuration of weight count/M, so ``num_configurations`` of the result can be < M.

    Args:
        log_probs_A_K_C: the batch's log-probabilities, ``[A, K, C]``, A ≥ 1.
        num_configurations: M ≥ 1.
        generator: the source of randomness.
        dtype: precision of the joint log-likelihoods and weights.
    """
    labels = _draw_labels(log_probs_A_K_C, num_configurations, generator)
    # Identical draws contribute identical terms: keep each distinct configuration once with
    # weight count/M. The estimate is unchanged; the GEMMs shrink when the predictive is peaked.
    labels, counts = torch.unique(labels, dim=0, return_counts=True)
    log_joint = _log_joint_of_labels(log_probs_A_K_C, labels, dtype)
    log_proposal = torch.logsumexp(log_joint, dim=1) - math.log(log_probs_A_K_C.shape[1])
    log_weights = counts.to(dtype).log_() - math.log(num_configurations)
    return LabelConfigurations(labels, log_joint, log_weights, log_proposal)


def _draw_labels(
    log_probs_A_K_C: torch.Tensor, num_configurations: int, generator: torch.Generator | None
) -> torch.Tensor:
    """M stratified draws of the batch's labels (see :func:`sample_configurations`), ``[M, A]``."""
    num_points, num_posterior_samples, num_classes = log_probs_A_K_C.shape
    device = log_probs_A_K_C.device
    repeats, remainder = divmod(num_configurations, num_posterior_samples)
    extra = torch.randperm(num_posterior_samples, generator=generator)[:remainder].to(device)
    sample_index_M = torch.cat(
        [torch.arange(num_posterior_samples, device=device).repeat(repeats), extra]
    )
    labels = torch.empty(num_configurations, num_points, dtype=torch.long, device=device)
    for point, log_probs_K_C in enumerate(log_probs_A_K_C):
        # [K, C] -> per-draw class probabilities [M, C]; inverse-CDF sampling with uniforms.
        cdf_M_C = log_probs_K_C.double().exp().cumsum(dim=1)[sample_index_M]
        uniforms_M_1 = torch.rand(num_configurations, 1, generator=generator, dtype=torch.float64)
        found = torch.searchsorted(cdf_M_C, uniforms_M_1.to(device) * cdf_M_C[:, -1:])
        labels[:, point] = found.squeeze(1).clamp_(max=num_classes - 1)
    return labels


def rescore(configs: LabelConfigurations, log_probs_A_K_C: torch.Tensor) -> LabelConfigurations:
    """The same label configurations under another model (e.g. an evaluation model).

    Exact enumerations get w_m = p_other(ŷ^m); sampled ones keep their proposal q and get the
    importance weights w_m = p_other(ŷ^m) / (M q(ŷ^m)). Note that an exact enumeration built
    under one model omits configurations that have probability 0 under it; enumerate each model
    separately if they can differ in support.

    Args:
        configs: configurations of a batch A.
        log_probs_A_K_C: the other model's log-probabilities for the same A points, ``[A, K', C]``.
    """
    dtype = configs.log_joint_M_K.dtype
    log_joint = _log_joint_of_labels(log_probs_A_K_C, configs.labels_M_A, dtype)
    log_marginal = torch.logsumexp(log_joint, dim=1) - math.log(log_joint.shape[1])
    if configs.exact:
        return LabelConfigurations(configs.labels_M_A, log_joint, log_marginal, None)
    # w_m = p_other(ŷ^m) / q(ŷ^m) · (count_m / M), and count_m / M is the current weight.
    log_weights = configs.log_weights_M + log_marginal - configs.log_proposal_M
    return LabelConfigurations(configs.labels_M_A, log_joint, log_weights, configs.log_proposal_M)


def joint_entropies_with_candidates(
    configs: LabelConfigurations,
    log_probs_N_K_C: torch.Tensor,
    *,
    max_memory_bytes: int = 2**30,
) -> torch.Tensor:
    """H(y_A, y_n) for every candidate n by (★), in the configurations' dtype.

    Args:
        configs: configurations of the batch A (exact or sampled).
        log_probs_N_K_C: the candidates' log-probabilities, ``[N, K, C]`` (same K as ``configs``).
        max_memory_bytes: bound on the temporaries; results do not depend on it.

    Returns:
        float64 ``[N]``.
    """
    posterior = configs.posterior_M_K()
    num_configs, num_posterior_samples = posterior.shape
    chunk = candidate_chunk_size(
        num_configs,
        num_posterior_samples,
        log_probs_N_K_C.shape[2],
        posterior.element_size(),
        max_memory_bytes,
    )
    sums = conditional_entropy_sums(posterior, configs.log_weights_M.exp(), log_probs_N_K_C, chunk)
    return configs.entropy() + sums
