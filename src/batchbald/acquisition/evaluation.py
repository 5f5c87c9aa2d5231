"""Evaluation-oriented acquisition: EIG and EvaluationBALD, per point and greedy batch.

Two sets of log-probabilities describe the same pool: ``log_probs_N_K_C`` from the model trained
on D_train and ``eval_log_probs_N_K_C`` from the *evaluation model*, trained on D_train ∪ D_eval
(in the report by self-distillation on the pool). A point is worth labelling when the evaluation
model's uncertainty about it is lower than the training model's: the label is expected to carry
information that matters for the evaluation distribution.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552 (the report).
    The maths is written out in ``docs/acquisition_report.md``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.acquisition import joint_entropy as je
from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS, row_slices
from batchbald.acquisition._validation import (
    check_batch_size,
    check_generator,
    check_log_probs,
    check_memory_budget,
    check_positive_int,
    check_same_pool,
)
from batchbald.acquisition.batchbald import DEFAULT_MAX_MEMORY_BYTES, FIRST_BLOCK, TIE_TOLERANCE
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import bald, entropy
from batchbald.errors import FewSamplesWarning, InvalidInputError

__all__ = ["batch_eig", "batch_evaluation_bald", "eig", "evaluation_bald"]


def check_pair(
    log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any, *, warn_single_sample: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate both log-prob tensors and check they describe the same pool (equal N, K, C)."""
    log_probs = check_log_probs(log_probs_N_K_C, warn_single_sample=warn_single_sample)
    eval_log_probs = check_log_probs(
        eval_log_probs_N_K_C, "eval_log_probs_N_K_C", warn_single_sample=warn_single_sample
    )
    check_same_pool(log_probs, eval_log_probs, "log_probs_N_K_C", "eval_log_probs_N_K_C")
    return log_probs, eval_log_probs


def eig(log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any) -> torch.Tensor:
    """Expected information gain for the evaluation set: H[y|x, D_train] − H[y|x, D_train ∪ D_eval].

    Both terms are predictive entropies (of the K-sample average), so point-estimate models
    (K = 1) are fine here and no :class:`~batchbald.errors.SingleSampleWarning` is raised.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the training model.
        eval_log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the evaluation model, same shape.

    Returns:
        float64 ``[N]`` in [−log C, log C]; negative where the evaluation model is less certain.

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    return entropy(log_probs) - entropy(eval_log_probs)


def evaluation_bald(log_probs_N_K_C: Any, eval_log_probs_N_K_C: Any) -> torch.Tensor:
    """EvaluationBALD: BALD under the training model minus BALD under the evaluation model.

    ``I[y; ω | x, D_train] − I[y; ω | x, D_train ∪ D_eval]``. It can be negative: points whose
    label the evaluation model is *more* uncertain about in parameter space than the training
    model (they contradict the evaluation set). :func:`~batchbald.acquisition.selection.top_k`
    and :func:`~batchbald.acquisition.stochastic.stochastic_batch` accept negative scores.

    Args:
        log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the training model.
        eval_log_probs_N_K_C: ``[N, K, C]`` log-probabilities of the evaluation model, same shape.
            K = 1 warns: both BALD terms are then 0.

    Returns:
        float64 ``[N]`` in [−log C, log C].

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """
    # bald() itself warns (SingleSampleWarning) when K = 1.
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    return bald(log_probs) - bald(eval_log_probs)


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
# Details: docs/acquisition_report.md.
# ----------------------------------------------------------------------------------------------


_BATCH_DOC = """Greedy {title} (the PowerEvaluationBALD report).

    {definition}

    Joint entropies follow :mod:`batchbald.acquisition.joint_entropy`: for the current batch A
    and a candidate c, with configurations ŷ^m of y_A and weights w_m,

        H(y_A, y_c) ≈ −Σ_m w_m log p(ŷ^m) + Σ_m w_m H[p(· | ŷ^m, x_c)],
        p(y | ŷ^m, x_c) = Σ_k p(ω_k | ŷ^m) p(y | x_c, ω_k),  p(ω_k | ŷ^m) ∝ p(ŷ^m | ω_k).

    Exact phase (while C^(n+1) ≤ num_samples at greedy step n, as in :func:`batchbald`): every
    configuration is enumerated under each model separately and w_m = p(ŷ^m) (the sum is the
    definition). Sampled phase: one draw per greedy step of M = num_samples configurations
    ŷ^m ~ q = p_train(y_A) (ω_k stratified, then labels), shared by every candidate and by both
    models. Under the training model q is the model's own predictive, so w_m = 1/M and the
    estimate is a plain Monte-Carlo mean. Under the evaluation model the same draws are
    importance-reweighted with self-normalised weights w_m = r_m / Σ_m' r_m',
    r_m = p_eval(ŷ^m) / p_train(ŷ^m): Σ_m w_m g(ŷ^m) → E_{{p_eval}}[g] for both terms above, so
    they estimate the evaluation model's H(y_A) and H(y_c | y_A). Self-normalising adds an
    O(1/M) bias but cuts the spread: on the test suite's pools the standard deviation of
    the estimate drops about 3× against the unnormalised w_m = r_m / M. Configurations with
    p_train = 0 are never drawn, so the evaluation model must not put mass where the training
    model has none (softmax outputs never do).

    Candidates are scored lazily (the proof that the picks equal full greedy's in the exact
    phase is in a comment in this module); ``lazy=False`` rescores every candidate every step.

    Args:
        log_probs_N_K_C: log p(y | x_n, ω_k) under the training model, ``[N, K, C]``, float32 or
            float64, any device.
        eval_log_probs_N_K_C: the evaluation model's log-probabilities, same shape.
        batch_size: b, 1 ≤ b ≤ N.
        num_samples: M, the exact/sampled threshold and the number of sampled configurations.
        generator: randomness for the sampled phase (CPU generator); None uses torch's global.
        dtype: precision of the joint-probability maths (float32 or float64).
        max_memory_bytes: bound on the temporaries (default 1 GiB); results do not depend on it.
        lazy: skip candidates whose bound cannot win (exact in the exact phase).

    Returns:
        :class:`AcquisitionResult`: indices in pick order; ``scores[i]`` is the estimated
        {title} score of the first i + 1 picks (cumulative, float64; it can be negative).

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """


def batch_eig(
    log_probs_N_K_C: Any,
    eval_log_probs_N_K_C: Any,
    batch_size: int,
    *,
    num_samples: int = 10_000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    lazy: bool = True,
) -> AcquisitionResult:
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    return _greedy(
        (log_probs, eval_log_probs),
        batch_size,
        subtract_conditional=False,
        options=_Options(num_samples, generator, dtype, max_memory_bytes, lazy),
    )


def batch_evaluation_bald(
    log_probs_N_K_C: Any,
    eval_log_probs_N_K_C: Any,
    batch_size: int,
    *,
    num_samples: int = 10_000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
    lazy: bool = True,
) -> AcquisitionResult:
    log_probs, eval_log_probs = check_pair(
        log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False
    )
    if log_probs.shape[1] == 1:
        check_log_probs(log_probs)  # warns: both BatchBALD terms are identically 0
    return _greedy(
        (log_probs, eval_log_probs),
        batch_size,
        subtract_conditional=True,
        options=_Options(num_samples, generator, dtype, max_memory_bytes, lazy),
    )


batch_eig.__doc__ = _BATCH_DOC.format(
    title="BatchEIG",
    definition="a(A) = H_train(y_A) − H_eval(y_A): joint predictive entropy under the training "
    "model\n    minus under the evaluation model; b = 1 is :func:`eig`.",
)
batch_evaluation_bald.__doc__ = _BATCH_DOC.format(
    title="BatchEvaluationBALD",
    definition="a(A) = I_train(y_A; ω) − I_eval(y_A; ω) = BatchBALD(train) − BatchBALD(eval);\n"
    "    b = 1 is :func:`evaluation_bald`.",
)


@dataclass(frozen=True)
class _Options:
    num_samples: int
    generator: torch.Generator | None
    dtype: torch.dtype
    max_memory_bytes: int
    lazy: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_samples", check_positive_int(self.num_samples, "num_samples"))
        object.__setattr__(self, "generator", check_generator(self.generator))
        budget = check_memory_budget(self.max_memory_bytes)
        object.__setattr__(self, "max_memory_bytes", budget)
        if self.dtype not in (torch.float32, torch.float64):
            raise InvalidInputError(
                f"dtype must be torch.float32 or torch.float64; got {self.dtype!r}"
            )


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
        sums = je.conditional_entropy_sums(
            self.posterior_M_K, self.weights_M, self.log_probs_N_K_C[candidates], chunk
        )
        return sums - self.penalty_N[candidates]

    def gain_lower_bounds(self, candidates: torch.Tensor, weight: float) -> torch.Tensor:
        """L(c) = Σ_k (v_k − λ/K) h_k(c) ≤ the computed Δ(c | A) (concavity; see above)."""
        v_K = (self.weights_M @ self.posterior_M_K).double()
        return self.sample_entropy_N_K[candidates] @ (v_K - weight / v_K.numel())


def _sample_entropies(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """H[p(· | x_n, ω_k)] for every n and k, float64 ``[N, K]``, in bounded pool slices."""
    num_points, num_samples, num_classes = log_probs_N_K_C.shape
    out = torch.empty(num_points, num_samples, dtype=torch.float64, device=log_probs_N_K_C.device)
    for rows in row_slices(num_points, DEFAULT_CHUNK_ELEMENTS // (num_samples * num_classes)):
        out[rows] = torch.special.entr(log_probs_N_K_C[rows].double().exp()).sum(dim=-1)
    return out


def _greedy(
    pair: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    *,
    subtract_conditional: bool,
    options: _Options,
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
    train: _Model, evaluation: _Model, picks: list[int], step: int, options: _Options
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
    options: _Options,
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
    # Candidates by decreasing bound, ties by index (stable sort of an index-ordered list).
    order = candidates[torch.sort(bound_N[candidates], descending=True, stable=True).indices]
    best_gain, best_pick = -math.inf, -1
    start, block = 0, (FIRST_BLOCK if options.lazy else len(order))
    while start < len(order):
        if options.lazy and bound_N[order[start]] + TIE_TOLERANCE < best_gain:
            break  # (i)+(ii): no remaining candidate can beat best_gain
        block_indices = order[start : start + block]
        start, block = start + len(block_indices), 2 * block
        train_gains = train.gains(block_indices, chunk)
        bound_N[block_indices] = train_gains - floor_N[block_indices]
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


def _argmax_lowest_index(gains: torch.Tensor, indices: torch.Tensor) -> tuple[float, int]:
    """Largest gain, the lowest index among gains within TIE_TOLERANCE of it."""
    best = gains.max()
    return float(best), int(indices[gains >= best - TIE_TOLERANCE].min())
