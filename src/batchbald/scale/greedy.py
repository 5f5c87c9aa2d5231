"""Greedy BatchBALD over a store larger than memory: load only the candidates that can win.

BatchBALD's marginal gain is submodular (Kirsch et al. 2019, Prop. 1): a candidate's gain
Δ(c | A) = I(y_A, y_c; ω) - I(y_A; ω) never exceeds its gain on the empty batch, BALD(c). So:

1. one streaming pass computes BALD for every point and keeps the L highest (ties: lower index);
   τ is the BALD of the best point left out (τ = -∞ when nothing is left out);
2. :func:`~batchbald.acquisition.batchbald` runs in memory on those L candidates (in pool
   order) with the caller's generator;
3. if every exact step's gain g_i exceeds τ (beyond a tolerance), no left-out point could
   have beaten its pick; every sampled step is checked by :mod:`batchbald.scale.sampled`
   (a concavity bound U_i on the engine's Monte-Carlo estimate, one more pass). Then the
   picks are those of the same call on the whole pool; otherwise the generator is rewound,
   the points that broke the check join and L grows (never a guess: the answer is returned
   only when the certificate holds, or every point is loaded). The next L holds at least every
   point whose BALD reaches 90% of the smallest exact gain, and is at least twice the last.

Why the candidate set cannot change the random stream: the in-memory call draws randomness only
to sample label configurations of the batch chosen so far (``joint_entropy.
sample_configurations`` from the picks' rows: a ``randperm(K)`` and M uniforms per batch
point, ``acquisition/greedy/single.py``), never per candidate.
So while two calls have made the same picks, their generators are in the same state and their
next configurations are the same; by induction over steps, the same picks give the same stream.
The candidates only enter through the argmax, which step 3 certifies in both phases
(``docs/scale.md``, "Exactness in both phases"). The report says how many candidates were
loaded and how many rounds it took. :func:`streamed_greedy` is the scheme for any rule;
:mod:`batchbald.scale.greedy_pair` runs BatchEvaluationBALD and BatchEIG with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from batchbald.acquisition import AcquisitionResult, batchbald
from batchbald.acquisition.greedy.options import DEFAULT_NUM_SAMPLES, GreedyOptions
from batchbald.errors import InvalidInputError
from batchbald.scale.sampled import points_that_could_win, sampled_steps
from batchbald.scale.store import LogProbStore
from batchbald.scale.streaming import (
    DEFAULT_CHUNK_ROWS,
    RunningTop,
    check_batch_size,
    stream_scores,
)

__all__ = ["Rule", "StreamedBatch", "streamed_batchbald", "streamed_greedy"]

# Gains must beat the best left-out bound by this much (covers rounding of the differences);
# with dtype=float32 joint-probability maths, by more.
CERTIFICATE_TOLERANCE = 1e-9
FLOAT32_TOLERANCE = 1e-4
# Default share of max_memory_bytes for the loaded candidates (the rest is the engine's).
CANDIDATE_SHARE = 0.5


@dataclass(frozen=True)
class StreamedBatch:
    """A batch chosen over a store, with the work it took.

    Attributes:
        result: indices (pool rows, pick order) and cumulative joint MI, as in memory.
        candidates_loaded: rows loaded into memory in the last (certified) round.
        rounds: in-memory greedy runs (1 when the first candidate set sufficed).
        threshold: τ, the largest BALD among the points never loaded (-inf: all loaded).
    """

    result: AcquisitionResult
    candidates_loaded: int
    rounds: int
    threshold: float


def _gains(cumulative_b: torch.Tensor) -> np.ndarray:
    cumulative = cumulative_b.double().cpu().numpy()
    return np.diff(cumulative, prepend=0.0)


def _candidate_limits(
    store: LogProbStore, batch_size: int, initial: int | None, limit: int | None, budget: int
) -> tuple[int, int]:
    num_rows, num_samples, num_classes = store.shape
    row_bytes = num_samples * num_classes * store.dtype.itemsize
    limit = limit if limit is not None else int(budget * CANDIDATE_SHARE) // row_bytes
    limit = min(num_rows, max(batch_size, limit))
    initial = initial if initial is not None else max(1024, 64 * batch_size)
    for name, value in (("initial_candidates", initial), ("max_candidates", limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
    return min(max(initial, batch_size), limit), limit


def _tolerance(dtype: torch.dtype) -> float:
    return CERTIFICATE_TOLERANCE if dtype == torch.float64 else FLOAT32_TOLERANCE


def streamed_batchbald(
    store: LogProbStore,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    max_memory_bytes: int = 2**30,
    initial_candidates: int | None = None,
    max_candidates: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    **options: Any,
) -> StreamedBatch:
    """Greedy BatchBALD over a store, equal to ``batchbald(whole pool, ...)`` (see module doc).

    Args:
        store: the pool's log-probabilities ``[N, K, C]``.
        batch_size: b.
        generator: CPU generator; consumed exactly as the in-memory call consumes it.
        max_memory_bytes: half for the loaded candidates, half for the engine's buffers.
        initial_candidates: L of the first round (default max(1024, 64·b)).
        max_candidates: most rows ever loaded (default: what half the budget holds).
        chunk_rows: rows per slice of the BALD pass (results do not depend on it).
        **options: ``num_samples``, ``dtype``, ``lazy``: passed to ``batchbald``.

    Raises:
        InvalidInputError: the certificate still fails with ``max_candidates`` loaded.
    """
    batch_size = check_batch_size(batch_size, store.shape[0])
    bounds = stream_scores(store, "bald", chunk_rows=chunk_rows)
    limits = (initial_candidates, max_candidates, max_memory_bytes)
    return streamed_greedy(
        Rule(batchbald, (store,), 1.0, batch_size, options), bounds, limits, generator
    )


@dataclass(frozen=True)
class Rule:
    """An in-memory greedy rule over stores, run on loaded candidates, and its sampled check.

    Attributes:
        fn: the in-memory rule, ``fn(*rows, b, generator=..., max_memory_bytes=..., **options)``.
        stores: ``(store,)``, or ``(store, eval_store)`` for the evaluation rules.
        penalty: λ of the sampled-step bound (1 for BatchBALD, see :mod:`.sampled`).
        batch_size: b.
        options: ``num_samples``, ``dtype``, ``lazy``.
        engine_budget: the engine's ``max_memory_bytes``.
    """

    fn: Any
    stores: tuple[LogProbStore, ...]
    penalty: float
    batch_size: int
    options: dict[str, Any]
    engine_budget: int = 2**29

    @property
    def settings(self) -> GreedyOptions:
        """The greedy options (M decides which steps are sampled)."""
        return _settings(self.options, self.engine_budget)

    def greedy(self, candidates: np.ndarray, generator: torch.Generator) -> AcquisitionResult:
        """The rule on the candidates' rows (in pool order) with ``generator``."""
        rows = [store.take(candidates) for store in self.stores]
        return self.fn(
            *rows, self.batch_size, generator=generator, max_memory_bytes=self.engine_budget,
            **self.options,
        )  # fmt: skip

    def could_win(self, picks: np.ndarray, loaded: np.ndarray, state: torch.Tensor) -> np.ndarray:
        """Left-out rows whose bound U_i could beat a sampled step's pick (empty: certified)."""
        picked = [store.take(picks) for store in self.stores]
        eval_rows = picked[1] if len(picked) > 1 else None
        steps = sampled_steps(picked[0], self.settings, state, eval_rows, self.penalty)
        eval_store = self.stores[1] if len(self.stores) > 1 else None
        tolerance = _tolerance(self.settings.dtype)
        return points_that_could_win(self.stores[0], loaded, steps, tolerance, eval_store)


def streamed_greedy(
    rule: Rule, bounds: Any, limits: tuple, generator: torch.Generator | None
) -> StreamedBatch:
    """Run ``rule`` over its stores: one pass keeps the highest ``bounds``, then certify.

    Args:
        rule: the rule and its stores.
        bounds: ``(start, bound_n)`` slices of every point's bound on its exact-phase gain.
        limits: ``(initial_candidates, max_candidates, max_memory_bytes)``.
        generator: the caller's CPU generator.
    """
    store, (initial, most, budget) = rule.stores[0], limits
    # The loaded candidates hold rows of every store: the budget is split between them.
    size, limit = _candidate_limits(
        store, rule.batch_size, initial, most, budget // len(rule.stores)
    )
    top = _best_bound(bounds, min(store.shape[0], limit + 1))
    engine_budget = max(2**20, int(budget * (1 - CANDIDATE_SHARE)))
    rule = Rule(rule.fn, rule.stores, rule.penalty, rule.batch_size, rule.options, engine_budget)
    return _certified(rule, top, size, limit, store.shape, generator or torch.default_generator)


def _settings(options: dict[str, Any], engine_budget: int) -> GreedyOptions:
    return GreedyOptions.checked(
        options.get("num_samples", DEFAULT_NUM_SAMPLES), None,
        options.get("dtype", torch.float64), engine_budget, options.get("lazy", True),
    )  # fmt: skip


def _exact_gains_certified(rule: Rule, scores_b: torch.Tensor, threshold: float, classes: int):
    """Every exact step's gain beats τ (the best bound left out) by the tolerance."""
    gains = _gains(scores_b)
    # Step 0 scores by BALD (no configurations); the exact steps follow until C^(i+1) > M.
    sampled = rule.settings.sampled
    exact = [0] + [step for step in range(1, len(gains)) if not sampled(classes, step)]
    tolerance = _tolerance(rule.settings.dtype)
    return bool(np.all(gains[exact] > threshold + tolerance)), float(gains[exact].min())


def _certified(
    rule: Rule, top: RunningTop, size: int, limit: int, shape: Any, generator: torch.Generator
) -> StreamedBatch:
    """Run greedy on the best ``size`` candidates (and any flagged), growing until certified."""
    num_rows, classes = shape[0], shape[2]
    state, rounds, flagged = generator.get_state(), 0, np.empty(0, dtype=np.int64)
    while True:
        rounds += 1
        candidates = np.union1d(np.sort(top.indices[:size]), flagged)
        threshold = float(top.keys[size]) if size < num_rows else -math.inf
        result = rule.greedy(candidates, generator)
        picks = candidates[result.indices.cpu().numpy()]
        exact_ok, smallest = _exact_gains_certified(rule, result.scores, threshold, classes)
        if len(candidates) >= num_rows:
            break
        more = rule.could_win(picks, candidates, state) if exact_ok else flagged[:0]
        if exact_ok and not len(more):
            break
        flagged = np.union1d(flagged, more)
        size = _next_size(size, limit, top.keys, smallest)
        if len(candidates) >= limit or len(np.union1d(top.indices[:size], flagged)) > limit:
            raise InvalidInputError(
                f"streamed greedy needs more than max_candidates = {limit} candidates: the "
                f"smallest exact gain {smallest:.6g} vs the best bound left out "
                f"({threshold:.6g}), {len(more)} point(s) that could beat a sampled pick; "
                "raise max_memory_bytes or max_candidates"
            )
        generator.set_state(state)
    batch = AcquisitionResult(indices=torch.from_numpy(picks), scores=result.scores)
    return StreamedBatch(batch, len(candidates), rounds, threshold)


def _best_bound(slices: Any, size: int) -> RunningTop:
    """One pass over ``(start, bound_n)`` slices: the ``size`` highest (index ascending)."""
    top = RunningTop(size)
    for start, scores_n in slices:
        top.push(scores_n.numpy(), start, scores_n.numpy())
    return top


def _next_size(size: int, limit: int, sorted_bald: np.ndarray, smallest_gain: float) -> int:
    """The next candidate count: at least double, and every point near the smallest gain.

    "Near": BALD at least 90% of the smallest gain seen. A guess at what will certify; only
    the certificate decides.
    """
    reach = int(np.searchsorted(-sorted_bald, -0.9 * smallest_gain, side="right"))
    return min(max(2 * size, reach), limit)


def describe(batch: StreamedBatch, num_rows: int) -> dict[str, Any]:
    """The work counters of a streamed batch, for reports and JSON output."""
    return {
        "candidates_loaded": batch.candidates_loaded,
        "pool_size": num_rows,
        "rounds": batch.rounds,
        "threshold_bald": batch.threshold,
    }
