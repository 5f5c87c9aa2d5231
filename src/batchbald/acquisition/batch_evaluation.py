"""Greedy batch versions of EIG and EvaluationBALD: BatchEIG and BatchEvaluationBALD.

Both maximise a(A) = f_train(A) − f_eval(A) greedily, f the joint predictive entropy (BatchEIG)
or the joint mutual information with the parameters (BatchEvaluationBALD), with the training and
the evaluation model's log-probabilities of the same pool (see
:mod:`batchbald.acquisition.evaluation` for the per-point scores and the two models). The greedy
engine is :mod:`batchbald.acquisition.greedy`; the proof that its lazy evaluation picks what
full greedy picks is in ``docs/greedy.md``.

References:
    Kirsch, Gal (2021), "PowerEvaluationBALD: Efficient Evaluation-Oriented Deep (Bayesian)
    Active Learning with Stochastic Acquisition Functions", arXiv:2101.03552 (the report).
    The maths is written out in ``docs/acquisition_report.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from batchbald.acquisition._validation import check_batch_size, check_log_probs, check_pair
from batchbald.acquisition.greedy.engine import run_greedy
from batchbald.acquisition.greedy.options import DEFAULT_OPTIONS, GreedyOptions, GreedySettings
from batchbald.acquisition.greedy.paired import PairedObjective
from batchbald.acquisition.greedy.terms import warn_few_samples
from batchbald.acquisition.result import AcquisitionResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["batch_eig", "batch_evaluation_bald"]


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

    Candidates are scored lazily, with valid bounds only, so the picks equal full greedy's
    (``lazy=False``, every candidate rescored every step) in both phases (``docs/greedy.md``).

    Args:
        log_probs_N_K_C: log p(y | x_n, ω_k) under the training model, ``[N, K, C]``, float32 or
            float64, any device.
        eval_log_probs_N_K_C: the evaluation model's log-probabilities, same shape.
        batch_size: b, 1 ≤ b ≤ N.
        options: :class:`~batchbald.acquisition.greedy.options.GreedyOptions` (default: the
            defaults of its fields).
        generator: randomness for the sampled phase (CPU generator); None uses
            ``options.generator`` (default: torch's global generator).
        **settings: ``num_samples`` (M, the exact/sampled threshold and the number of sampled
            configurations), ``dtype`` (float32 or float64), ``max_memory_bytes`` (default
            1 GiB; results do not depend on it), ``lazy`` (skip candidates whose upper bound
            cannot win; the picks are full greedy's): each overrides that field of ``options``.

    Returns:
        :class:`AcquisitionResult`: indices in pick order; ``scores[i]`` is the estimated
        {title} score of the first i + 1 picks (cumulative, float64; it can be negative).

    Raises:
        InvalidInputError: bad input, or the two tensors disagree in N, K or C.
    """


def _paired_rule(
    name: str, title: str, weight: float, definition: str
) -> Callable[..., AcquisitionResult]:
    """The public function ``name`` of the greedy rule a(A) = f_train(A) − f_eval(A).

    ``weight`` is λ in f(A) = H(y_A) − λ Σ_{a∈A} E_ω H(y_a | ω): 0 for BatchEIG, 1 for
    BatchEvaluationBALD; the docstring is ``_BATCH_DOC`` with ``title`` and ``definition``.
    """

    def rule(
        log_probs_N_K_C: Any,
        eval_log_probs_N_K_C: Any,
        batch_size: int,
        *,
        options: GreedyOptions = DEFAULT_OPTIONS,
        generator: torch.Generator | None = None,
        **settings: Unpack[GreedySettings],
    ) -> AcquisitionResult:
        pair = check_pair(log_probs_N_K_C, eval_log_probs_N_K_C, warn_single_sample=False)
        if weight and pair[0].shape[1] == 1:
            check_log_probs(pair[0])  # warns: both BatchBALD terms are identically 0
        options = GreedyOptions.of_call(name, options, generator, settings)
        batch_size = check_batch_size(batch_size, pair[0].shape[0])
        objective = PairedObjective(pair, weight, options)
        warn_few_samples(pair[0], batch_size, options)
        return run_greedy(objective, batch_size, options.lazy)

    rule.__name__ = rule.__qualname__ = name
    rule.__doc__ = _BATCH_DOC.format(title=title, definition=definition)
    return rule


batch_eig = _paired_rule(
    "batch_eig",
    "BatchEIG",
    0.0,
    "a(A) = H_train(y_A) − H_eval(y_A): joint predictive entropy under the training "
    "model\n    minus under the evaluation model; b = 1 is "
    ":func:`~batchbald.acquisition.evaluation.eig`.",
)
batch_evaluation_bald = _paired_rule(
    "batch_evaluation_bald",
    "BatchEvaluationBALD",
    1.0,
    "a(A) = I_train(y_A; ω) − I_eval(y_A; ω) = BatchBALD(train) − BatchBALD(eval);\n"
    "    b = 1 is :func:`~batchbald.acquisition.evaluation.evaluation_bald`.",
)
