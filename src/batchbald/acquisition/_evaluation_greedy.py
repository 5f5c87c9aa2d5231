"""The greedy engine behind BatchEIG and BatchEvaluationBALD (private).

Public entry points: :func:`batchbald.acquisition.batch_evaluation.batch_eig` and
:func:`~batchbald.acquisition.batch_evaluation.batch_evaluation_bald`, which validate their
arguments and call :func:`greedy`. The comment block below proves that lazy greedy picks what
full greedy picks in the exact phase.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS, row_slices
from batchbald.acquisition._validation import check_batch_size, check_sampling_options
from batchbald.acquisition.batchbald import (
    COARSEN_MIN_RATIO,
    FIRST_BLOCK,
    MAX_BLOCK,
    REFINE_BINS,
    TIE_TOLERANCE,
)
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import entropy
from batchbald.errors import FewSamplesWarning

# ----------------------------------------------------------------------------------------------
# Greedy batch versions: maximise a(A) = f_train(A) − f_eval(A) with f(A) = H(y_A) (BatchEIG) or
# f(A) = I(y_A; ω) = H(y_A) − Σ_a E_ω H(y_a | ω) (BatchEvaluationBALD); step n adds
# argmax_c Δ_train(c | A) − Δ_eval(c | A), Δ(c | A) = H(y_c | y_A) − λ E_ω H(y_c | ω), λ ∈ {0, 1}.
#
# Why lazy greedy is exact in the exact phase (a itself is not submodular; we never bound it
# directly). With K equally weighted samples the enumeration computes functions of a genuine
# discrete distribution, under which:
#   (i)  Δ_eval(c | A) ≥ floor(c) := (1 − λ) E_ω H_eval(y_c | ω) ≥ 0 — for λ = 1, monotonicity of
#        I(y_A; ω); for λ = 0, H(y_c | y_A) ≥ H(y_c | y_A, ω) = H(y_c | ω) (labels independent
#        given ω);
#   (ii) Δ_train(c | A) ≤ Δ_train(c | A') for A' ⊆ A — submodularity of the joint entropy and of
#        I(y_A; ω) for conditionally independent labels (BatchBALD, Prop. 1).
# So gain(c | A) ≤ U(c) := Δ_train(c | A') − floor(c), A' the last batch at which c was scored
# (at first ∅), for this and every later step. Candidates are rescored by decreasing U in doubling
# blocks until the best gain exceeds the next U by 1e-12 (rounding slack): every skipped
# candidate has gain ≤ U < best, so the pick is full greedy's (ties: lowest index).
#
# Within a step, concavity of entropy bounds the *computed* eval gain for any weights w_m ≥ 0:
# Σ_m w_m H[Σ_k π_mk p_eval(· | x_c, ω_k)] ≥ Σ_k v_k h_k(c), π_mk = p_eval(ω_k | ŷ^m),
# v_k = Σ_m w_m π_mk, h_k(c) = H[p_eval(· | x_c, ω_k)]; so Δ̂_eval(c | A) ≥ L(c) :=
# Σ_k (v_k − λ/K) h_k(c), and a candidate with Δ_train(c | A) − L(c) below the best gain so far
# skips the evaluation model's GEMM. This holds for estimates too: exact in both phases.
# In the sampled phase (ii) holds only approximately for the carried-over U (noisy estimates
# from other draws), as in the core's lazy BatchBALD; ``lazy=False`` gives full greedy.
#
# Group bounds (this step only, exact in both phases). Merge each model's configurations into
# groups g (joint_entropy.coarsen_by_posterior_mode) with weights W_g and averaged posteriors
# π̄_g. Per group, with q_m = Σ_k π_mk p(· | x_c, ω_k):
#   Σ_{m∈g} w_m H[q_m] ≤ W_g H[q̄_g]                       (Jensen: the core's upper bound), and
#   Σ_{m∈g} w_m H[q_m] ≥ W_g H[q̄_g] − W_g I_g(M; K),      I_g = H[π̄_g] − Σ_{m∈g} (w_m/W_g) H[π_m],
# because W_g H[q̄_g] − Σ_{m∈g} w_m H[q_m] = W_g I(M; Y) for m ~ w/W_g, k ~ π_m, y ~ p(· | ω_k),
# and I(M; Y) ≤ I(M; K) along the chain M → K → Y (data processing). Concavity per
# configuration gives a second lower bound, H[q_m] ≥ Σ_k π_mk h_k(c), so per group
#   Σ_{m∈g} w_m H[q_m] ≥ W_g max(H[q̄_g] − I_g, Σ_k π̄_gk h_k(c))
# (the second term is a [G, K] @ [K, n] product, C times cheaper than the entropies; it is what
# keeps the bound useful where I_g is large, i.e. diffuse posteriors). Hence
#   gain(c | A) ≤ [coarse Δ_train(c | A)] − max(floor(c), Σ_g W_g max(...) − λ E_ω H(y_c | ω)),
# (the floor only in the exact phase: sampled estimates of Δ_eval can fall below it)
# at G/M of the cost. Every candidate gets the bound from mode groups; once the first exact
# block has set a best gain, the candidates still in play get finer ones, one term at a time
# (REFINE_STAGES: mode × probability intervals; any valid upper minus any valid lower term is
# a bound), with an exact block between stages to raise the best gain, and are visited in the
# order of the latest bounds. Rounding: the
# slack is 4 × joint_entropy.rounding_bound (blocked float64 accumulation keeps it independent of
# M, ≈1e-4 nats in float32 at K = 100), so float32 prunes almost as well as float64.
# These bounds order and prune this step only; they are not carried over (a later step's
# Δ_eval can be smaller).
# Details: docs/acquisition_report.md.
# ----------------------------------------------------------------------------------------------


#: The finer group bounds' stages, in order: (probability intervals per posterior mode, True
#: for the evaluation term / False for the training term). The finer evaluation term is the one
#: that prunes; the training term goes through 8 intervals (a fifth of the cost of 64, most of
#: its pruning) before 64 (``benchmarks/bound_terms.py``, ``benchmarks/greedy_pools.py
#: --refine-stages``; docs/benchmarks/acquisition_report.md).
REFINE_STAGES = ((4 * REFINE_BINS, True), (REFINE_BINS // 2, False), (4 * REFINE_BINS, False))
#: Use a finer group bound when the exact gains have at least this many times its rows.
REFINE_MIN_RATIO = 2


@dataclass(frozen=True)
class GreedyOptions:
    """The keyword arguments of a greedy batch rule, validated by :meth:`checked`."""

    num_samples: int
    generator: torch.Generator | None
    dtype: torch.dtype
    max_memory_bytes: int
    lazy: bool

    @classmethod
    def checked(
        cls, num_samples: Any, generator: Any, dtype: Any, max_memory_bytes: Any, lazy: bool
    ) -> GreedyOptions:
        """Options from user arguments (errors name the offending argument)."""
        return cls(*check_sampling_options(num_samples, generator, dtype, max_memory_bytes), lazy)


@dataclass
class _Model:
    """One model's pool tensors and the configurations of the current batch under it."""

    log_probs_N_K_C: torch.Tensor
    sample_entropy_N_K: torch.Tensor  # h_k(n) = H[p(· | x_n, ω_k)]
    penalty_N: torch.Tensor  # λ E_ω H(y_n | ω)
    configs: je.LabelConfigurations
    posterior_M_K: torch.Tensor | None = None  # p(ω_k | ŷ^m), cached per greedy step
    weights_M: torch.Tensor | None = None

    @classmethod
    def build(cls, log_probs_N_K_C: torch.Tensor, weight: float, dtype: torch.dtype) -> _Model:
        sample_entropy = _sample_entropies(log_probs_N_K_C)
        empty = je.empty_configurations(
            log_probs_N_K_C.shape[1], dtype=dtype, device=sample_entropy.device
        )
        return cls(log_probs_N_K_C, sample_entropy, weight * sample_entropy.mean(dim=1), empty)

    def set_configurations(self, configs: je.LabelConfigurations) -> None:
        self.configs = configs
        self.posterior_M_K = configs.posterior_M_K()
        self.weights_M = configs.log_weights_M.exp()

    def first_gains(self) -> torch.Tensor:
        """Δ(c | ∅) = H(y_c) − λ E_ω H(y_c | ω) for every pool point, float64 ``[N]``."""
        return entropy(self.log_probs_N_K_C) - self.penalty_N

    def batch_score(self, picks: list[int]) -> float:
        """f(A) = H(y_A) − λ Σ_a E_ω H(y_a | ω) under the current configurations."""
        return self.configs.entropy() - float(self.penalty_N[picks].sum())

    def gains(self, candidates: torch.Tensor, chunk: int) -> torch.Tensor:
        """Δ(c | A) = Σ_m w_m H[p(· | ŷ^m, x_c)] − λ E_ω H(y_c | ω) for the given candidates."""
        sums = je.conditional_entropy_sums_at(
            self.posterior_M_K, self.weights_M, self.log_probs_N_K_C, candidates, chunk
        )
        return sums - self.penalty_N[candidates]

    def gain_lower_bounds(self, candidates: torch.Tensor, weight: float) -> torch.Tensor:
        """L(c) = Σ_k (v_k − λ/K) h_k(c) ≤ the computed Δ(c | A) (concavity; see above)."""
        v_K = (self.weights_M @ self.posterior_M_K).double()
        return self.sample_entropy_N_K[candidates] @ (v_K - weight / v_K.numel())


def _sample_entropies(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """H[p(· | x_n, ω_k)] = −Σ_c p log p for every n and k, float64 ``[N, K]``, in bounded pool
    slices. ``log p`` is the given log-probability (1.4–2× faster than ``torch.special.entr``,
    which takes a second logarithm, ``benchmarks/sample_entropies.py``; equal to within 1e-15);
    0 · log 0 (0 · −inf = NaN) counts as 0, repaired only in slices that hold one."""
    num_points, num_samples, num_classes = log_probs_N_K_C.shape
    out = torch.empty(num_points, num_samples, dtype=torch.float64, device=log_probs_N_K_C.device)
    for rows in row_slices(num_points, DEFAULT_CHUNK_ELEMENTS // (num_samples * num_classes)):
        log_probs = log_probs_N_K_C[rows].double()  # a view of float64 input: not written to
        plogp = log_probs.exp().mul_(log_probs)
        sums = plogp.sum(dim=-1)
        if torch.isnan(sums).any():
            sums = plogp.nan_to_num_(nan=0.0).sum(dim=-1)
        out[rows] = sums.neg_()
    return out


def greedy(
    pair: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    *,
    subtract_conditional: bool,
    options: GreedyOptions,
) -> AcquisitionResult:
    """Greedy maximisation of f_train(A) − f_eval(A) (see the comment block above)."""
    num_points = pair[0].shape[0]
    batch_size = check_batch_size(batch_size, num_points)
    weight = 1.0 if subtract_conditional else 0.0
    train, evaluation = (_Model.build(log_probs, weight, options.dtype) for log_probs in pair)
    # Step 0 is exact and needs no joint entropies; Δ_train(c | ∅) is every first bound.
    floor_N = (1.0 - weight) * evaluation.sample_entropy_N_K.mean(dim=1)  # (i'): Δ_eval ≥ floor
    train_gains_N = train.first_gains()
    gains_N = train_gains_N - evaluation.first_gains()
    bound_N = train_gains_N - floor_N
    gain, pick = _argmax_lowest_index(gains_N, torch.arange(num_points, device=gains_N.device))
    picks, cumulative = [pick], [gain]
    available_N = torch.ones(num_points, dtype=torch.bool, device=bound_N.device)
    available_N[pick] = False
    for step in range(1, batch_size):
        _update_configurations(train, evaluation, picks, step, options)
        gain, pick = _best_candidate(
            train, evaluation, (bound_N, floor_N), available_N, weight, options
        )
        batch_score = train.batch_score(picks) - evaluation.batch_score(picks)
        picks.append(pick)
        available_N[pick] = False
        cumulative.append(batch_score + gain)
    device = pair[0].device
    return AcquisitionResult(
        indices=torch.tensor(picks, dtype=torch.int64, device=device),
        scores=torch.tensor(cumulative, dtype=torch.float64, device=device),
    )


def _update_configurations(
    train: _Model, evaluation: _Model, picks: list[int], step: int, options: GreedyOptions
) -> None:
    """Extend both exact enumerations, or draw M configurations under train and reweight."""
    num_classes, num_posterior = train.log_probs_N_K_C.shape[2], train.log_probs_N_K_C.shape[1]
    if num_classes ** (step + 1) <= options.num_samples:
        # Each model enumerates its own support (rescoring would miss configurations that are
        # impossible under train but possible under eval).
        for model in (train, evaluation):
            model.set_configurations(
                je.extend_exact(model.configs, model.log_probs_N_K_C[picks[-1]])
            )
        return
    if train.configs.exact and options.num_samples < 10 * num_posterior:
        warnings.warn(
            f"num_samples = {options.num_samples} < 10·K = {10 * num_posterior} in the sampled "
            "phase: joint entropy estimates are noisy. Raise num_samples.",
            FewSamplesWarning,
            stacklevel=5,
        )
    train.set_configurations(
        je.sample_configurations(
            train.log_probs_N_K_C[picks],
            options.num_samples,
            generator=options.generator,
            dtype=options.dtype,
        )
    )
    rescored = je.rescore(train.configs, evaluation.log_probs_N_K_C[picks])
    # Self-normalise the importance weights: w_m = r_m / Σ_m' r_m' with r_m = p_eval / p_train.
    log_weights_M = rescored.log_weights_M - torch.logsumexp(rescored.log_weights_M, dim=0)
    evaluation.set_configurations(
        je.LabelConfigurations(
            rescored.labels_M_A, rescored.log_joint_M_K, log_weights_M, rescored.log_proposal_M
        )
    )


def _best_candidate(
    train: _Model,
    evaluation: _Model,
    bounds: tuple[torch.Tensor, torch.Tensor],
    available_N: torch.Tensor,
    weight: float,
    options: GreedyOptions,
) -> tuple[float, int]:
    """The available candidate of largest gain (ties: lowest index); refreshes the bounds."""
    bound_N, floor_N = bounds
    configs = train.configs
    chunk = je.candidate_chunk_size(
        configs.num_configurations,
        configs.log_joint_M_K.shape[1],
        train.log_probs_N_K_C.shape[2],
        torch.finfo(options.dtype).bits // 8,
        options.max_memory_bytes,
    )
    candidates = torch.nonzero(available_N).squeeze(1)
    step_bound = bound_N[candidates]  # (i)+(ii): valid for this and later steps
    # Finer group bounds, one term at a time (REFINE_STAGES). Unlike BatchBALD's, the exact
    # gain here costs two GEMMs and the mode bound prunes little, so a finer bound pays off at
    # half the exact rows already.
    stages: list[tuple[_GroupBounds, bool]] = []
    terms = (step_bound, step_bound)  # the group bounds' two terms, once there are stages
    num_configs = min(model.configs.num_configurations for model in (train, evaluation))
    if options.lazy and num_configs >= COARSEN_MIN_RATIO * configs.log_joint_M_K.shape[1]:
        coarse = _GroupBounds(train, evaluation, floor_N, bins=1, options=options)
        terms = (coarse.train_upper(candidates), coarse.eval_lower(candidates))
        step_bound = torch.minimum(step_bound, terms[0] - terms[1] + coarse.slack)
        levels: dict[int, _GroupBounds] = {}
        for bins, evaluation_term in REFINE_STAGES:
            if bins not in levels:
                levels[bins] = _GroupBounds(train, evaluation, floor_N, bins=bins, options=options)
            if levels[bins].num_rows * REFINE_MIN_RATIO <= num_configs:
                stages.append((levels[bins], evaluation_term))
    # Candidates by decreasing bound, ties by index (stable sort of an index-ordered list).
    ranked = torch.sort(step_bound, descending=True, stable=True)
    order, upper = candidates[ranked.indices], ranked.values
    if stages:
        terms = (terms[0][ranked.indices], terms[1][ranked.indices])  # aligned with `order`
    best_gain, best_pick = -math.inf, -1
    scored = False  # a block was scored since the last refinement stage
    start, block = 0, (FIRST_BLOCK if options.lazy else len(order))
    while start < len(order):
        if options.lazy and float(upper[start]) + TIE_TOLERANCE < best_gain:
            break  # no remaining candidate can beat best_gain
        if stages and scored:
            # Between exact blocks (each raising the best gain), the next stage for every
            # candidate still in play; then visit them in the order of the new bounds.
            level, evaluation_term = stages.pop(0)
            order, upper, terms = _tightened(
                level,
                evaluation_term,
                (order[start:], upper[start:]),
                (terms[0][start:], terms[1][start:]),
                best_gain,
            )
            ranked = torch.sort(upper, descending=True, stable=True)
            order, upper = order[ranked.indices], ranked.values
            terms = (terms[0][ranked.indices], terms[1][ranked.indices])
            start, scored = 0, False
            continue
        block_indices = order[start : start + block]
        start, block = start + len(block_indices), min(2 * block, MAX_BLOCK)
        train_gains = train.gains(block_indices, chunk)
        bound_N[block_indices] = train_gains - floor_N[block_indices]
        scored = True
        if options.lazy:  # concavity filter: skip the eval GEMM where it cannot change the pick
            ceiling = train_gains - evaluation.gain_lower_bounds(block_indices, weight)
            keep = ceiling + TIE_TOLERANCE >= best_gain
            block_indices, train_gains = block_indices[keep], train_gains[keep]
            if block_indices.numel() == 0:
                continue
        gains = train_gains - evaluation.gains(block_indices, chunk)
        gain, pick = _argmax_lowest_index(gains, block_indices)
        if gain > best_gain + TIE_TOLERANCE or (
            gain >= best_gain - TIE_TOLERANCE and pick < best_pick
        ):
            best_gain, best_pick = gain, pick
    return best_gain, best_pick


def _tightened(
    level: _GroupBounds,
    evaluation_term: bool,
    bounds: tuple[torch.Tensor, torch.Tensor],
    terms: tuple[torch.Tensor, torch.Tensor],
    best_gain: float,
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One refinement stage: drop the candidates that cannot beat ``best_gain``, tighten one
    term of the rest with ``level``, and return ``(order, upper, terms)`` of the candidates
    still in play.

    ``bounds`` are ``(order, upper)``: candidates and their current bounds; ``terms`` the
    training upper and evaluation lower terms behind them, aligned with ``order``. Any valid
    upper term minus any valid lower term (plus the slack) bounds the gain, so each term keeps
    the tightest value of all levels so far and the evaluation term can be refined first:
    on the step-3 pools it prunes most of what both terms prune together, the training term
    alone little (``benchmarks/bound_terms.py``), and the exact block scored between the
    stages raises the best gain before the training term's GEMM runs.
    """
    order, upper = bounds
    in_play = upper + TIE_TOLERANCE >= best_gain
    order, upper = order[in_play], upper[in_play]
    train_upper, eval_lower = terms[0][in_play], terms[1][in_play]
    if evaluation_term:
        eval_lower = torch.maximum(eval_lower, level.eval_lower(order))
    else:
        train_upper = torch.minimum(train_upper, level.train_upper(order))
    upper = torch.minimum(upper, train_upper - eval_lower + level.slack)
    return order, upper, (train_upper, eval_lower)


class _GroupBounds:
    """Upper bounds on this step's gain(c | A) from grouped configurations of both models (see
    "Group bounds" in the comment block at the top)."""

    def __init__(
        self,
        train: _Model,
        evaluation: _Model,
        floor_N: torch.Tensor,
        *,
        bins: int,
        options: GreedyOptions,
    ) -> None:
        self.train, self.evaluation, self.floor_N = train, evaluation, floor_N
        self.exact = train.configs.exact and evaluation.configs.exact
        self.groups = [
            je.coarsen_by_posterior_mode(train.posterior_M_K, train.weights_M, bins=bins),
            je.group_by_posterior_mode(evaluation.posterior_M_K, evaluation.weights_M, bins=bins),
        ]
        posterior_G_K, weights_G, group_M = self.groups[1]
        # I_g(M; K) = H[π̄_g] − Σ_{m∈g} (w_m / W_g) H[π_m], float64.
        weighted_M = evaluation.weights_M.double() * _entropies(evaluation.posterior_M_K)
        kept = group_M >= 0
        members_G = weighted_M.new_zeros(len(weights_G)).index_add_(
            0, group_M[kept], weighted_M[kept]
        )
        information_G = _entropies(posterior_G_K) - members_G / weights_G.double()
        self.information_G = information_G.clamp_min_(0.0)  # ≥ 0 up to rounding
        self.num_rows = max(len(group[1]) for group in self.groups)
        log_probs = train.log_probs_N_K_C
        self.chunk = je.candidate_chunk_size(
            self.num_rows,
            log_probs.shape[1],
            log_probs.shape[2],
            torch.finfo(options.dtype).bits // 8,
            options.max_memory_bytes,
        )
        # Rounding: four sums over ≤ M rows (the exact gain's two, the bound's two;
        # joint_entropy.rounding_bound) and the float64 information terms.
        num_samples, num_classes = log_probs.shape[1:]
        num_configs = max(model.weights_M.numel() for model in (train, evaluation))
        self.slack = 4 * je.rounding_bound(num_samples, num_classes, options.dtype, num_configs)
        self.slack += 4 * num_samples * torch.finfo(torch.float64).eps * math.log(num_samples)

    def __call__(self, candidates: torch.Tensor) -> torch.Tensor:
        """Bounds ≥ gain(c | A) for ``candidates``, float64 ``[n]``."""
        return self.train_upper(candidates) - self.eval_lower(candidates) + self.slack

    def train_upper(self, candidates: torch.Tensor) -> torch.Tensor:
        """≥ Δ_train(c | A) up to ``slack`` (Jensen over the groups), float64 ``[n]``."""
        posterior_G_K, weights_G = self.groups[0]
        sums = je.conditional_entropy_sums_at(
            posterior_G_K, weights_G, self.train.log_probs_N_K_C, candidates, self.chunk
        )
        return sums - self.train.penalty_N[candidates]

    def eval_lower(self, candidates: torch.Tensor) -> torch.Tensor:
        """≤ Δ_eval(c | A) up to ``slack`` (data processing and concavity), float64 ``[n]``."""
        eval_lower = self._eval_lower_sums(candidates) - self.evaluation.penalty_N[candidates]
        if self.exact:  # (i) holds for genuine distributions, not for sampled estimates
            eval_lower = torch.maximum(eval_lower, self.floor_N[candidates])
        return eval_lower

    def _eval_lower_sums(self, candidates: torch.Tensor) -> torch.Tensor:
        """Σ_g W_g max(H[q̄_g(c)] − I_g, Σ_k π̄_gk h_k(c)) ≤ Σ_m w_m H[q_m(c)], float64 ``[n]``."""
        posterior_G_K, weights_G, _ = self.groups[1]
        information_G = self.information_G.to(posterior_G_K.dtype)
        weights64_G = weights_G.double()
        log_probs, sample_entropy_N_K = (
            self.evaluation.log_probs_N_K_C,
            self.evaluation.sample_entropy_N_K,
        )
        out = torch.empty(len(candidates), dtype=torch.float64, device=candidates.device)
        for start in range(0, len(candidates), self.chunk):
            piece = candidates[start : start + self.chunk]
            # In the compute dtype: both terms' rounding is within rounding_bound's per-row term.
            rows_G_n = je.conditional_entropy_rows(posterior_G_K, log_probs[piece])
            rows_G_n.sub_(information_G[:, None])
            aleatoric_G_n = posterior_G_K @ sample_entropy_N_K[piece].T.to(posterior_G_K.dtype)
            torch.maximum(rows_G_n, aleatoric_G_n, out=rows_G_n)
            out[start : start + len(piece)] = weights64_G @ rows_G_n.double()
        return out


def _entropies(posterior_M_K: torch.Tensor) -> torch.Tensor:
    """H[p(ω | ŷ^m)] per row, float64 ``[M]``."""
    posterior = posterior_M_K.double()
    return -(posterior * posterior.clamp_min(1e-300).log()).sum(dim=1)


def _argmax_lowest_index(gains: torch.Tensor, indices: torch.Tensor) -> tuple[float, int]:
    """Largest gain, the lowest index among gains within TIE_TOLERANCE of it."""
    best = gains.max()
    return float(best), int(indices[gains >= best - TIE_TOLERANCE].min())
