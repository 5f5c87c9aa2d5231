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

from batchbald.errors import InvalidInputError

__all__ = [
    "LabelConfigurations",
    "Workspace",
    "coarsen_by_posterior_mode",
    "conditional_entropy_rows",
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
        return int(self.log_joint_M_K.shape[0])

    @property
    def log_marginal_M(self) -> torch.Tensor:
        """log p(ŷ^m) = log (1/K) Σ_k p(ŷ^m | ω_k), ``[M]``."""
        return torch.logsumexp(self.log_joint_M_K, dim=1) - math.log(self.log_joint_M_K.shape[1])

    def entropy(self) -> float:
        """The (estimated) joint entropy H(y_A) = -Σ_m w_m log p(ŷ^m), in nats."""
        return float(-(self.log_weights_M.exp() * self.log_marginal_M).sum())

    def posterior_M_K(self) -> torch.Tensor:
        """p(ω_k | ŷ^m): each row of the joint likelihoods normalised over K."""
        return torch.softmax(self.log_joint_M_K, dim=1)


def empty_configurations(
    num_samples_K: int, *, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> LabelConfigurations:
    """The single (empty) configuration of an empty batch: H = 0, posterior uniform over ω."""
    return LabelConfigurations(
        labels_M_A=torch.zeros(1, 0, dtype=torch.long, device=device),
        log_joint_M_K=torch.zeros(1, num_samples_K, dtype=dtype, device=device),
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
    num_configs, num_samples = configs.log_joint_M_K.shape
    num_classes = log_probs_K_C.shape[1]
    log_probs = log_probs_K_C.to(configs.log_joint_M_K.dtype)
    # [M, 1, K] + [1, C, K] -> [M, C, K] -> [M·C, K]; row m·C + y is (ŷ^m, y).
    log_joint = (configs.log_joint_M_K[:, None, :] + log_probs.T[None, :, :]).reshape(
        -1, num_samples
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
    log_marginal = torch.logsumexp(log_joint, dim=1) - math.log(num_samples)
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
    """log p(ŷ^m | ω_k) = Σ_i log p(ŷ^m_i | x_i, ω_k) for given labels: ``[M, K]``."""
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
    """
    num_points, num_samples, num_classes = log_probs_A_K_C.shape
    device = log_probs_A_K_C.device
    repeats, remainder = divmod(num_configurations, num_samples)
    extra = torch.randperm(num_samples, generator=generator)[:remainder].to(device)
    sample_index_M = torch.cat([torch.arange(num_samples, device=device).repeat(repeats), extra])
    labels = torch.empty(num_configurations, num_points, dtype=torch.long, device=device)
    for point, log_probs_K_C in enumerate(log_probs_A_K_C):
        # [K, C] -> per-draw class probabilities [M, C]; inverse-CDF sampling with uniforms.
        cdf_M_C = log_probs_K_C.double().exp().cumsum(dim=1)[sample_index_M]
        uniforms = torch.rand(num_configurations, 1, generator=generator, dtype=torch.float64).to(
            device
        )
        labels[:, point] = (
            torch.searchsorted(cdf_M_C, uniforms * cdf_M_C[:, -1:])
            .squeeze(1)
            .clamp_(max=num_classes - 1)
        )
    # Identical draws contribute identical terms: keep each distinct configuration once with
    # weight count/M. The estimate is unchanged; the GEMMs shrink when the predictive is peaked.
    labels, counts = torch.unique(labels, dim=0, return_counts=True)
    log_joint = _log_joint_of_labels(log_probs_A_K_C, labels, dtype)
    log_proposal = torch.logsumexp(log_joint, dim=1) - math.log(num_samples)
    log_weights = counts.to(dtype).log_() - math.log(num_configurations)
    return LabelConfigurations(labels, log_joint, log_weights, log_proposal)


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


def coarsen_by_posterior_mode(
    posterior_M_K: torch.Tensor, weights_M: torch.Tensor, *, bins: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge configurations with similar posteriors p(ω | ŷ^m): an upper bound at lower cost.

    Configurations are grouped by the mode g(m) = argmax_k p(ω_k | ŷ^m) and, with ``bins`` > 1,
    by which of ``bins`` equal intervals of [0, 1] holds the mode's probability. Group g gets
    the weight W_g = Σ_{m∈g} w_m and the averaged posterior Q_g = Σ_{m∈g} w_m p(ω | ŷ^m) / W_g.
    For every candidate x the entropy H[Σ_k q_k p(· | x, ω_k)] is concave in q, so (Jensen, per
    group)

        Σ_m w_m H[p(· | ŷ^m, x)]  ≤  Σ_g W_g H[Σ_k Q_g[k] p(· | x, ω_k)],

    i.e. :func:`conditional_entropy_sums` of the G coarse rows bounds that of the M fine rows from
    above at G/M of the cost. Any grouping gives a valid bound; the tighter the posteriors within
    a group, the tighter the bound. It is tight when posteriors concentrate on one ω, exactly
    when the batch's joint MI approaches log K and the last gains (lazy greedy's classic bound)
    are loose.

    Args:
        posterior_M_K: p(ω_k | ŷ^m), rows summing to 1.
        weights_M: w_m ≥ 0.
        bins: intervals of the mode's probability per mode (1: group by the mode only).

    Returns:
        ``(posterior_G_K, weights_G)`` for the G ≤ K · bins non-empty groups, input dtype.
    """
    posterior_G_K, weights_G, _ = group_by_posterior_mode(posterior_M_K, weights_M, bins=bins)
    return posterior_G_K, weights_G


def group_by_posterior_mode(
    posterior_M_K: torch.Tensor, weights_M: torch.Tensor, *, bins: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`coarsen_by_posterior_mode` and which group each configuration went to.

    Returns:
        ``(posterior_G_K, weights_G, group_M)``: ``group_M[m]`` is the row of configuration m
        in the first two, or −1 where its whole group had weight 0 (and was dropped).
    """
    mode_M = posterior_M_K.max(dim=1)
    group_M = mode_M.indices
    if bins > 1:
        level_M = (mode_M.values * bins).long().clamp_(max=bins - 1)
        group_M = group_M * bins + level_M
    groups, group_M = torch.unique(group_M, return_inverse=True)
    weights_G = weights_M.new_zeros(len(groups)).index_add_(0, group_M, weights_M)
    mass_G_K = posterior_M_K.new_zeros(len(groups), posterior_M_K.shape[1]).index_add_(
        0, group_M, posterior_M_K * weights_M[:, None]
    )
    used = weights_G > 0  # weights that underflowed to 0 carry no mass
    renumber = torch.cumsum(used, dim=0) - 1
    group_M = torch.where(used[group_M], renumber[group_M], -1)
    return mass_G_K[used] / weights_G[used, None], weights_G[used], group_M


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
    num_points, num_samples, num_classes = log_probs_n_K_C.shape
    probs_K_nC = log_probs_n_K_C.to(posterior_G_K.dtype).exp().transpose(0, 1)
    conditional_G_nC = posterior_G_K @ probs_K_nC.reshape(num_samples, -1)
    tiny = torch.finfo(conditional_G_nC.dtype).tiny
    entropy_G_nC = conditional_G_nC.clamp_min(tiny).log_().mul_(conditional_G_nC)
    return entropy_G_nC.view(-1, num_points, num_classes).sum(dim=2).neg_()


# Preferred size of each [M, n·C] temporary: large enough for an efficient GEMM, small enough to
# stay in the last-level cache's neighbourhood and to avoid page faults on fresh allocations.
PREFERRED_BUFFER_BYTES = 16 * 2**20


def candidate_chunk_size(
    num_configurations: int,
    num_samples: int,
    num_classes: int,
    itemsize: int,
    max_memory_bytes: int,
    share: float = 1.0,
    reserved: int = 0,
) -> int:
    """How many candidates one GEMM of :func:`conditional_entropy_sums` scores within
    ``share`` of the budget left after ``reserved`` bytes (the caller's other temporaries).

    Per candidate (the :class:`Workspace`): two ``[M, C]`` buffers (conditional probabilities
    and their entropy terms) and three ``[K, C]`` ones (gathered input, probabilities, their
    transpose). Fixed: three ``[M, K]`` arrays (the configurations' joint log-likelihoods, the
    posterior and one temporary) and a few ``[M]`` vectors. Raises when even one candidate does
    not fit.
    """
    fixed = itemsize * (3 * num_configurations * num_samples + 4 * num_configurations)
    per_candidate = itemsize * num_classes * (2 * num_configurations + 3 * num_samples)
    available = int((max_memory_bytes - reserved) * share)
    if fixed + per_candidate > available:
        needed = math.ceil((fixed + per_candidate) / share) + reserved
        raise InvalidInputError(
            f"max_memory_bytes must be at least {needed} "
            f"bytes for M = {num_configurations} configurations, K = {num_samples}, "
            f"C = {num_classes}; got {max_memory_bytes}. Raise the budget or lower num_samples."
        )
    preferred = PREFERRED_BUFFER_BYTES // (itemsize * num_classes * num_configurations)
    return int(max(1, min((available - fixed) // per_candidate, preferred)))


class Workspace:
    """Flat work buffers for scoring ``chunk_size`` candidates at a time against ``rows``
    configurations, allocated once and viewed for every chunk: per-chunk allocations of these
    sizes let glibc's heap keep freed blocks (measured: resident memory growing with the pool).
    """

    def __init__(
        self,
        rows: int,
        chunk_size: int,
        log_probs_N_K_C: torch.Tensor,
        dtype: torch.dtype,
    ) -> None:
        num_samples, num_classes = log_probs_N_K_C.shape[1:]
        per_candidate = num_samples * num_classes
        self.chunk_size, self.num_samples, self.num_classes = chunk_size, num_samples, num_classes
        self.gathered = log_probs_N_K_C.new_empty(chunk_size * per_candidate)
        self.probs = log_probs_N_K_C.new_empty(chunk_size * per_candidate, dtype=dtype)
        self.probs_T = log_probs_N_K_C.new_empty(chunk_size * per_candidate, dtype=dtype)
        self.conditional = log_probs_N_K_C.new_empty(rows * chunk_size * num_classes, dtype=dtype)
        self.entropy = log_probs_N_K_C.new_empty(rows * chunk_size * num_classes, dtype=dtype)

    def check_fits(self, rows: int, chunk_size: int, dtype: torch.dtype) -> None:
        """Raise unless ``chunk_size`` candidates against ``rows`` configurations fit, in
        ``dtype`` (a workspace built for fewer rows, candidates or another dtype is misuse)."""
        per_candidate = self.num_samples * self.num_classes
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
    num_points, num_samples, num_classes = log_probs_N_K_C.shape
    chunk_size = min(chunk_size, num_points)
    space = workspace or Workspace(num_configs, chunk_size, log_probs_N_K_C, dtype)
    space.check_fits(num_configs, chunk_size, dtype)
    out = torch.empty(num_points, dtype=torch.float64, device=posterior_M_K.device)
    tiny = torch.finfo(dtype).tiny
    for start in range(0, num_points, chunk_size):
        stop = min(start + chunk_size, num_points)
        n = stop - start
        size = num_configs * n * num_classes
        conditional_M_nC = space.conditional[:size].view(num_configs, -1)
        entropy_M_nC = space.entropy[:size].view(num_configs, -1)
        # [n, K, C] -> [K, n, C] -> [K, n·C]: one GEMM scores the whole chunk.
        probs_n_K_C = space.probs[: n * num_samples * num_classes].view(n, num_samples, -1)
        probs_n_K_C.copy_(log_probs_N_K_C[start:stop]).exp_()
        probs_K_n_C = space.probs_T[: n * num_samples * num_classes].view(num_samples, n, -1)
        probs_K_n_C.copy_(probs_n_K_C.transpose(0, 1))
        torch.mm(posterior_M_K, probs_K_n_C.view(num_samples, -1), out=conditional_M_nC)
        # p log max(p, tiny), vectorised (torch.special.entr is not): 0 at p = 0, and the clamp
        # changes nothing else (|p log p| < 1e-305 below tiny) while sparing log the slow path
        # of subnormal inputs.
        torch.clamp_min(conditional_M_nC, tiny, out=entropy_M_nC)
        entropy_M_nC.log_().mul_(conditional_M_nC)
        sums_nC = _weighted_row_sum(weights_M, entropy_M_nC)
        out[start:stop] = sums_nC.view(n, num_classes).sum(dim=1).double().neg_()
    return out


#: Rows summed in the compute dtype before float64 accumulation (see :func:`rounding_bound`).
ACCUMULATION_BLOCK = 64


def _weighted_row_sum(weights_M: torch.Tensor, values_M_R: torch.Tensor) -> torch.Tensor:
    """``weights_M @ values_M_R``; below float64, in blocks of ACCUMULATION_BLOCK rows summed in
    float64, so its rounding grows with the block, not with M (float64: one GEMV, bitwise as
    before)."""
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


def rounding_bound(num_samples: int, num_classes: int, dtype: torch.dtype, num_rows: int) -> float:
    """A bound on |computed − exact| of one :func:`conditional_entropy_sums` value over
    ``num_rows`` rows (weights summing to ≤ 1).

    Per row, the GEMM's relative error on q = Σ_k π_k p_k is ≤ K·eps (non-negative terms), plus
    eps each from exp, log and the product; |d(q log q)/dq| = |1 + log q| and Σ_y q |1 + log q|
    ≤ 1 + log C, so a row's entropy is off by ≤ (K + 3)·eps·(1 + log C). The weighted sum over
    rows adds ≤ (ACCUMULATION_BLOCK + C)·eps·log C below float64 (blocks in the compute dtype)
    and ≤ M·eps64·log C for the float64 part (all of it in float64). Doubled for safety.
    """
    eps, eps64 = torch.finfo(dtype).eps, torch.finfo(torch.float64).eps
    log_classes = math.log(num_classes)
    per_row = (num_samples + 3) * eps * (1 + log_classes)
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
    """:func:`conditional_entropy_sums` of ``log_probs_N_K_C[candidates]``, gathering the
    candidates ``chunk_size`` at a time into the workspace, so memory stays within the budget."""
    if not len(candidates):
        return torch.zeros(0, dtype=torch.float64, device=candidates.device)
    chunk_size = min(chunk_size, len(candidates))
    space = workspace or Workspace(
        posterior_M_K.shape[0], chunk_size, log_probs_N_K_C, posterior_M_K.dtype
    )
    num_samples, num_classes = log_probs_N_K_C.shape[1:]
    out = torch.empty(len(candidates), dtype=torch.float64, device=candidates.device)
    for start in range(0, len(candidates), chunk_size):
        piece = candidates[start : start + chunk_size]
        gathered = space.gathered[: len(piece) * num_samples * num_classes]
        gathered_n_K_C = gathered.view(len(piece), num_samples, num_classes)
        torch.index_select(log_probs_N_K_C, 0, piece, out=gathered_n_K_C)
        out[start : start + len(piece)] = conditional_entropy_sums(
            posterior_M_K,
            weights_M,
            gathered_n_K_C,
            chunk_size,
            space,
        )
    return out


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
    num_configs, num_samples = posterior.shape
    chunk = candidate_chunk_size(
        num_configs,
        num_samples,
        log_probs_N_K_C.shape[2],
        posterior.element_size(),
        max_memory_bytes,
    )
    sums = conditional_entropy_sums(posterior, configs.log_weights_M.exp(), log_probs_N_K_C, chunk)
    return configs.entropy() + sums
