"""Greedy BatchBALD (Kirsch, van Amersfoort, Gal 2019, Algorithm 1), lazily evaluated.

a_BatchBALD(A) = I(y_A; ω) = H(y_A) - Σ_{i∈A} E_ω H(y_i | ω)                            (eq. 8)

is monotone submodular in A, so the greedy batch is within 1 - 1/e of the best (Prop. 1). Greedy
step n adds the candidate with the largest marginal gain

    Δ(c | A) = H(y_A, y_c) - H(y_A) - E_ω H(y_c | ω) = Σ_m w_m H[p(· | ŷ^m, x_c)] - E_ω H(y_c | ω)

(see :mod:`batchbald.acquisition.joint_entropy` for the configurations ŷ^m and weights w_m).
Joint entropies are exact while C^n ≤ num_samples (every configuration enumerated) and estimated
from num_samples configurations drawn from p(y_A) afterwards (appendix C), redrawn at every greedy
step from ``generator`` and shared by every candidate (common random numbers).

Lazy greedy (Minoux 1978): by submodularity Δ(c | A) can only shrink as A grows, so a candidate's
last computed gain (initially its BALD score, Δ(c | ∅)) bounds its next one. Each step rescores
candidates in order of their bounds, one GEMM per block, and stops as soon as the best fresh gain
beats every remaining bound. Once the joint MI nears its ceiling log K those bounds are loose
(every gain collapses together), so each step also bounds every candidate from configurations
merged by the mode of their posterior p(ω | ŷ) (Jensen: ≤ K rows instead of M; see
:func:`~batchbald.acquisition.joint_entropy.coarsen_by_posterior_mode`), and the candidates about
to be rescored from a finer merge; only those that can still win are scored exactly. In the exact
phase this picks exactly what full greedy picks. In the sampled phase last step's gains are
estimates from other draws, kept as a heuristic bound; pass ``lazy=False`` for full greedy. The
acquisition benchmark compares the two batches' joint MI re-estimated with a large M.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS
from batchbald.acquisition._validation import (
    check_batch_size,
    check_log_probs,
    check_sampling_options,
)
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import bald_and_conditional_entropy
from batchbald.errors import (
    FewSamplesWarning,
    InvalidInputError,
    JointMutualInformationSaturationWarning,
)

__all__ = ["DEFAULT_MAX_MEMORY_BYTES", "batchbald"]

DEFAULT_MAX_MEMORY_BYTES = 2**30
# Warn when the joint MI estimate exceeds this fraction of its ceiling log K.
SATURATION_FRACTION = 0.9
# Gains within this absolute distance count as ties (broken by the lower pool index), which makes
# picks independent of floating-point reduction order (chunking, memory budget). Bounds get the
# same slack, so rounding can never hide a candidate from lazy greedy.
TIE_TOLERANCE = 1e-12
# Candidates rescored together in the first block of a lazy step; later blocks double in size.
FIRST_BLOCK = 32
# ... and never more than this many (bounded overshoot past the stopping point).
MAX_BLOCK = 256
# Lazy bounds from coarsened configurations (joint_entropy.coarsen_by_posterior_mode): used when
# the step has at least COARSEN_MIN_RATIO times as many configurations as coarse rows. The first
# level groups by posterior mode (≤ K rows) and bounds every candidate; the second also splits
# by REFINE_BINS intervals of the mode's probability and bounds the candidates about to be scored.
COARSEN_MIN_RATIO = 4
REFINE_BINS = 16
# The coarse bounds only order and prune candidates, so float32 (half the bytes of float64) is
# enough where they have many rows; the slack covers the rounding of their sums
# (joint_entropy.rounding_bound, ≈1e-4 nats in float32). With at most COARSE_F64_MAX_ROWS rows
# (K ≤ 32) they are cheap in float64, whose slack is ~1e-12: once the joint MI saturates, gains
# cluster within ~1e-4 nats, where the float32 slack would stop all pruning
# (benchmarks/lazy_counts.py 3, K = 10: 24 s → 3.3 s).
COARSE_DTYPE = torch.float32
COARSE_F64_MAX_ROWS = 512
# Shares of max_memory_bytes for the exact-gain and bound workspaces.
FINE_SHARE, COARSE_SHARE = 0.45, 0.15


def batchbald(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    num_samples: int = 10_000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    lazy: bool = True,
) -> AcquisitionResult:
    """Select a batch by greedy BatchBALD.

    Args:
        log_probs_N_K_C: log p(y | x_n, ω_k) of the pool, ``[N, K, C]``, float32 or float64, any
            device (with MC dropout, masks shared by every pool point).
        batch_size: b, 1 ≤ b ≤ N.
        num_samples: M: joint entropies are exact while C^n ≤ M, then estimated from M sampled
            label configurations (the paper's text uses 10,000; its code 40,000).
        generator: randomness for the sampled phase (CPU generator); None uses torch's global.
        dtype: precision of the joint-probability maths (float64 by default, as in the paper).
            float32 halves the buffers; the lazy bounds' slack covers its rounding
            (``joint_entropy.rounding_bound``, ≈1e-4 nats at K = 100 for any M), so pruning
            works nearly as in float64 (1.4-1.6x faster than float64 at M = 100,000 on the
            step-3 pools, ``benchmarks/greedy_pools.py``). Gains closer than the slack are then all
            scored exactly, which costs time where they cluster (saturated joint MI).
        max_memory_bytes: budget the work buffers are sized from (default 1 GiB); results do
            not depend on it. Allocator overhead of extra threads comes on top (measured in
            ``docs/benchmarks/acquisition.md``).
        lazy: rescore only candidates whose bound can still win (exact in the exact phase).

    Returns:
        :class:`AcquisitionResult`: indices in pick order, and ``scores[i]`` the estimated joint
        mutual information I(y_1..y_{i+1}; ω) after pick i (cumulative, float64).

    Warns:
        SingleSampleWarning: K = 1 (all scores 0; picks are the lowest indices).
        FewSamplesWarning: the sampled phase is entered with num_samples < 10·K.
        JointMutualInformationSaturationWarning: the joint MI estimate exceeds 90% of log K,
            its ceiling with K posterior samples; later picks are mostly estimation noise.
    """
    log_probs = check_log_probs(log_probs_N_K_C, check_normalisation=False)
    num_points, num_posterior, num_classes = log_probs.shape
    batch_size = check_batch_size(batch_size, num_points)
    num_samples, generator, dtype, max_memory_bytes = check_sampling_options(
        num_samples, generator, dtype, max_memory_bytes
    )

    # Δ(c | ∅) = BALD(c): the first upper bounds.
    bound_N, conditional_entropy_N = bald_and_conditional_entropy(
        log_probs, max_elements=max(1, min(DEFAULT_CHUNK_ELEMENTS, max_memory_bytes // 32))
    )
    # Steps 1..b-1 score against C^step exact configurations while C^(step+1) ≤ M, else M.
    sampled = num_classes**batch_size > num_samples
    max_rows = num_samples if sampled else num_classes ** max(batch_size - 1, 0)
    # Sampling M configurations of up to b - 1 points keeps int64 [M, b] labels and the
    # copies torch.unique sorts them with (measured ≈ 3 copies): reserved before the shares.
    reserved = 4 * 8 * num_samples * (batch_size - 1) if sampled else 0
    spaces = (
        _Workspaces.allocate(log_probs, max_rows, dtype, max_memory_bytes, reserved)
        if batch_size > 1
        else None
    )
    available_N = torch.ones(num_points, dtype=torch.bool, device=log_probs.device)
    configs = je.empty_configurations(num_posterior, dtype=dtype, device=log_probs.device)
    picks: list[int] = []
    cumulative: list[float] = []
    batch_conditional_entropy = 0.0
    saturation_warned = False
    for step in range(batch_size):
        exact = num_classes ** (step + 1) <= num_samples
        if step > 0:
            configs = _configurations_for(
                configs, log_probs, picks, exact, num_samples, generator, dtype
            )
        gain, pick = _best_candidate(
            configs,
            log_probs,
            conditional_entropy_N,
            bound_N,
            available_N,
            lazy,
            spaces,
            step,
        )
        # I(y_A; ω) estimated with this step's configurations.
        batch_mi = configs.entropy() - batch_conditional_entropy
        picks.append(pick)
        available_N[pick] = False
        batch_conditional_entropy += float(conditional_entropy_N[pick])
        cumulative.append(max(batch_mi + gain, 0.0))
        ceiling = math.log(num_posterior)
        if not saturation_warned and cumulative[-1] > SATURATION_FRACTION * ceiling > 0:
            saturation_warned = True
            _warn_saturation(cumulative[-1], step + 1, batch_size, num_posterior)
    device = log_probs.device
    return AcquisitionResult(
        indices=torch.tensor(picks, dtype=torch.long, device=device),
        scores=torch.tensor(cumulative, dtype=torch.float64, device=device),
    )


def _warn_saturation(value: float, pick: int, batch_size: int, num_posterior: int) -> None:
    warnings.warn(
        f"BatchBALD's joint mutual information estimate reached {value:.3f} nats at pick "
        f"{pick} of {batch_size}, over {SATURATION_FRACTION:.0%} of its ceiling "
        f"log K = {math.log(num_posterior):.3f} (K = {num_posterior} posterior samples): "
        "later picks are dominated by estimation noise. Use more posterior samples.",
        JointMutualInformationSaturationWarning,
        stacklevel=3,
    )


def _configurations_for(
    configs: je.LabelConfigurations,
    log_probs_N_K_C: torch.Tensor,
    picks: list[int],
    exact: bool,
    num_samples: int,
    generator: torch.Generator | None,
    dtype: torch.dtype,
) -> je.LabelConfigurations:
    """Configurations of the current batch: extend the exact enumeration, or draw afresh."""
    if exact:
        return je.extend_exact(configs, log_probs_N_K_C[picks[-1]])
    if configs.exact and num_samples < 10 * log_probs_N_K_C.shape[1]:
        warnings.warn(
            f"num_samples = {num_samples} < 10·K = {10 * log_probs_N_K_C.shape[1]} in BatchBALD's "
            "sampled phase: joint entropy estimates are noisy. Raise num_samples.",
            FewSamplesWarning,
            stacklevel=4,
        )
    return je.sample_configurations(
        log_probs_N_K_C[picks], num_samples, generator=generator, dtype=dtype
    )


def _best_candidate(
    configs: je.LabelConfigurations,
    log_probs_N_K_C: torch.Tensor,
    conditional_entropy_N: torch.Tensor,
    bound_N: torch.Tensor,
    available_N: torch.Tensor,
    lazy: bool,
    spaces: _Workspaces | None,
    step: int,
) -> tuple[float, int]:
    """The available candidate of largest marginal gain Δ(c | A) (ties: lowest index).

    Lazy: every candidate gets the coarse bound (mode groups); candidates are visited in
    decreasing order of their bound in blocks; a block's candidates get the finer bound (mode ×
    probability groups), and only those whose finer bound can still win are scored exactly.
    The loop stops when the next bound cannot beat the best exact gain. The coarse bounds are
    valid for this step's configurations; last step's gains are valid in the exact phase (so
    the pick is full greedy's there) and a heuristic in the sampled phase.
    Updates ``bound_N`` in place (exact gains, or bounds).
    """
    candidates = torch.nonzero(available_N).squeeze(1)
    if step == 0:  # Δ(c | ∅) = BALD(c): the bounds are the gains.
        return _argmax_lowest_index(bound_N[candidates], candidates)
    assert spaces is not None  # allocated whenever there is a step > 0
    posterior_M_K = configs.posterior_M_K()
    weights_M = configs.log_weights_M.exp()
    num_configs, num_posterior = posterior_M_K.shape
    score = _GainScorer(posterior_M_K, weights_M, log_probs_N_K_C, conditional_entropy_N, spaces)
    refine = None
    if lazy and num_configs >= COARSEN_MIN_RATIO * num_posterior:
        coarse = score.coarse(bins=1)(candidates)
        # In the exact phase, last step's gains are valid bounds (submodularity); in the sampled
        # phase they are estimates from other draws, kept as a heuristic (``lazy=False``: none).
        bound_N[candidates] = torch.minimum(bound_N[candidates], coarse)
        refine = score.coarse(bins=REFINE_BINS)
        if refine.num_rows * COARSEN_MIN_RATIO > num_configs:
            refine = None  # barely cheaper than the exact gains
    # Candidates by decreasing bound, ties by index (stable sort of an index-ordered list).
    order = candidates[torch.sort(bound_N[candidates], descending=True, stable=True).indices]
    best_gain, best_pick = -math.inf, -1
    start, block = 0, (FIRST_BLOCK if lazy else len(order))
    while start < len(order):
        if lazy and bound_N[order[start]] + TIE_TOLERANCE < best_gain:
            break
        block_indices = order[start : start + block]
        start += len(block_indices)
        block = min(2 * block, MAX_BLOCK)
        if refine is not None and best_gain > -math.inf:
            bound_N[block_indices] = torch.minimum(bound_N[block_indices], refine(block_indices))
            block_indices = block_indices[bound_N[block_indices] + TIE_TOLERANCE >= best_gain]
            if not len(block_indices):
                continue
        # The logical blocks (32, 64, ..., 256) do not depend on the budget, so neither do the
        # picks; each is gathered and scored in budget-sized pieces.
        gains = score(block_indices)
        bound_N[block_indices] = gains
        gain, pick = _argmax_lowest_index(gains, block_indices)
        if gain > best_gain + TIE_TOLERANCE or (
            gain >= best_gain - TIE_TOLERANCE and pick < best_pick
        ):
            best_gain, best_pick = gain, pick
    return best_gain, best_pick


@dataclass(frozen=True)
class _Workspaces:
    """The work buffers of one :func:`batchbald` call, allocated once: ``fine`` for the exact
    gains (up to M rows, compute dtype, FINE_SHARE of the budget), ``coarse`` for the bounds (up
    to K · REFINE_BINS rows, COARSE_SHARE; float64 up to COARSE_F64_MAX_ROWS rows, else
    COARSE_DTYPE); the rest of the budget covers the per-point pass, the configurations'
    sampling and small temporaries."""

    fine: je.Workspace
    coarse: je.Workspace

    @property
    def coarse_dtype(self) -> torch.dtype:
        return self.coarse.probs.dtype

    @classmethod
    def allocate(
        cls,
        log_probs_N_K_C: torch.Tensor,
        max_rows: int,
        dtype: torch.dtype,
        max_memory_bytes: int,
        reserved: int,
    ) -> _Workspaces:
        num_points, num_posterior, num_classes = log_probs_N_K_C.shape

        def workspace(rows: int, space_dtype: torch.dtype, share: float) -> je.Workspace:
            chunk = je.candidate_chunk_size(
                rows,
                num_posterior,
                num_classes,
                torch.empty(0, dtype=space_dtype).element_size(),
                max_memory_bytes,
                share,
                reserved,
            )
            return je.Workspace(rows, min(chunk, num_points), log_probs_N_K_C, space_dtype)

        fine = workspace(max_rows, dtype, FINE_SHARE)
        coarse_rows = min(num_posterior * REFINE_BINS, max_rows)
        coarse_dtype = torch.float64 if coarse_rows <= COARSE_F64_MAX_ROWS else COARSE_DTYPE
        try:
            coarse = workspace(coarse_rows, coarse_dtype, COARSE_SHARE)
        except InvalidInputError:
            # Budgets this small (below ≈14 MB for K = 100) still get the bounds, one candidate at a
            # time (≤ 1 MB over the budget): without them the sampled phase's lazy picks could
            # depend on the budget.
            coarse = je.Workspace(coarse_rows, 1, log_probs_N_K_C, coarse_dtype)
        return cls(fine, coarse)


class _GainScorer:
    """Δ(c | A) = Σ_m w_m H[p(· | ŷ^m, x_c)] - E_ω H(y_c | ω) for candidates c, from a set of
    configuration rows (the exact ones, or coarsened ones giving upper bounds plus ``slack``)."""

    def __init__(
        self,
        posterior_M_K: torch.Tensor,
        weights_M: torch.Tensor,
        log_probs_N_K_C: torch.Tensor,
        conditional_entropy_N: torch.Tensor,
        spaces: _Workspaces,
        *,
        coarse: bool = False,
        slack: float = 0.0,
    ) -> None:
        self.posterior_M_K, self.weights_M = posterior_M_K, weights_M
        self.log_probs_N_K_C, self.conditional_entropy_N = log_probs_N_K_C, conditional_entropy_N
        self.spaces, self.slack = spaces, slack
        self.space = spaces.coarse if coarse else spaces.fine
        # As many candidates per GEMM as the workspace holds for this many rows.
        rows_capacity = self.space.conditional.numel() // (self.num_rows * log_probs_N_K_C.shape[2])
        self.chunk = max(1, min(self.space.chunk_size, rows_capacity))

    @property
    def num_rows(self) -> int:
        return int(self.posterior_M_K.shape[0])

    def __call__(self, candidates: torch.Tensor) -> torch.Tensor:
        sums = je.conditional_entropy_sums_at(
            self.posterior_M_K,
            self.weights_M,
            self.log_probs_N_K_C,
            candidates,
            self.chunk,
            self.space,
        )
        return sums - self.conditional_entropy_N[candidates] + self.slack

    def coarse(self, bins: int) -> _GainScorer:
        """Upper bounds from :func:`~batchbald.acquisition.joint_entropy.
        coarsen_by_posterior_mode`, in the coarse workspace's dtype, padded by
        :func:`~batchbald.acquisition.joint_entropy.rounding_bound` of their sums and of the
        exact gains' (≈1e-4 nats in float32 at K = 100 whatever M; ~1e-11 in float64)."""
        dtype = self.spaces.coarse_dtype
        posterior_G_K, weights_G = (
            part.to(dtype)
            for part in je.coarsen_by_posterior_mode(self.posterior_M_K, self.weights_M, bins=bins)
        )
        # Rounding of the exact gains (M rows) and of the bounds (G rows).
        num_samples, num_classes = self.log_probs_N_K_C.shape[1:]
        slack = je.rounding_bound(
            num_samples, num_classes, self.posterior_M_K.dtype, self.num_rows
        ) + je.rounding_bound(num_samples, num_classes, dtype, len(weights_G))
        return _GainScorer(
            posterior_G_K,
            weights_G,
            self.log_probs_N_K_C,
            self.conditional_entropy_N,
            self.spaces,
            coarse=True,
            slack=slack,
        )


def _argmax_lowest_index(gains: torch.Tensor, indices: torch.Tensor) -> tuple[float, int]:
    """Largest gain, the lowest index among gains within TIE_TOLERANCE of it."""
    best = gains.max()
    tied = indices[gains >= best - TIE_TOLERANCE]
    return float(best), int(tied.min())
