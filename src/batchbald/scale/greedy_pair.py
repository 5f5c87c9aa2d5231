"""BatchEvaluationBALD and BatchEIG over stores larger than memory (Kirsch & Gal 2021).

Both maximise a(A) = f_train(A) − f_eval(A) greedily from two models' log-probabilities of the
same pool (:mod:`batchbald.acquisition.batch_evaluation`); here both live in stores of the same
shape and are streamed. The scheme is streamed BatchBALD's (:mod:`batchbald.scale.greedy`):

1. one pass computes every point's bound on its gain at any exact step, the engine's own
   carried bound (``acquisition/greedy/paired.py``, proved in ``docs/greedy.md`` (i)):
   Δa(c | A) ≤ Δ_train(c | ∅) − floor(c), i.e. BALD_train(c) for BatchEvaluationBALD (λ = 1)
   and H_train(c) − E_ω H_eval(y_c | ω) for BatchEIG (λ = 0); the L highest are loaded;
2. the in-memory rule runs on those L rows of both stores with the caller's generator;
3. every exact step's gain must beat τ, the best bound left out; every sampled step's pick
   must beat U_i(c) of every left-out point, U_i the concavity bound of
   :mod:`batchbald.scale.sampled` with the evaluation term bounded below (its weights v);
   otherwise the generator is rewound and more candidates are loaded.

The sampled configurations are drawn from the training rows of the picks only and reweighted
with the evaluation rows of the picks, so, as for BatchBALD, equal picks mean equal draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from batchbald.acquisition import conditional_entropy, entropy
from batchbald.acquisition.batch_evaluation import batch_eig, batch_evaluation_bald
from batchbald.errors import InvalidInputError
from batchbald.scale.greedy import Rule, StreamedBatch, streamed_greedy
from batchbald.scale.store import LogProbStore
from batchbald.scale.streaming import (
    DEFAULT_CHUNK_ROWS,
    check_batch_size,
    slice_rows,
    stream_scores,
)

__all__ = ["PAIRED_RULES", "streamed_batch_evaluation"]

#: Registry name -> (in-memory rule, λ).
PAIRED_RULES = {
    "batch_evaluation_bald": (batch_evaluation_bald, 1.0),
    "batch_eig": (batch_eig, 0.0),
}


def _first_bounds(
    store: LogProbStore, eval_store: LogProbStore, penalty: float, chunk_rows: int
) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, bound_n)``: Δ_train(c | ∅) − floor(c), slice by slice (float64)."""
    if penalty == 1.0:  # floor = 0: the bound is the training model's BALD
        yield from stream_scores(store, "bald", chunk_rows=chunk_rows)
        return
    for start, log_probs_n_K_C in store.chunks(slice_rows(store, chunk_rows)):
        rows = np.arange(start, start + len(log_probs_n_K_C))
        eval_floor_n = conditional_entropy(eval_store.take(rows))
        yield start, entropy(log_probs_n_K_C) - eval_floor_n


def _check_pair(store: LogProbStore, eval_store: LogProbStore, method: str) -> None:
    if method not in PAIRED_RULES:
        raise InvalidInputError(f"method must be one of {', '.join(PAIRED_RULES)}; got {method!r}")
    if store.shape != eval_store.shape:
        raise InvalidInputError(
            f"the evaluation store must have the pool store's shape {store.shape} [N, K, C]; "
            f"got {eval_store.shape}"
        )


def streamed_batch_evaluation(
    store: LogProbStore,
    eval_store: LogProbStore,
    batch_size: int,
    *,
    method: str = "batch_evaluation_bald",
    generator: torch.Generator | None = None,
    max_memory_bytes: int = 2**30,
    initial_candidates: int | None = None,
    max_candidates: int | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    **options: Any,
) -> StreamedBatch:
    """``batch_evaluation_bald`` / ``batch_eig`` of two stores, equal to the in-memory call.

    Args:
        store: the training model's log-probabilities of the pool ``[N, K, C]``.
        eval_store: the evaluation model's, same shape.
        batch_size: b.
        method: ``"batch_evaluation_bald"`` or ``"batch_eig"``.
        generator: CPU generator; consumed exactly as the in-memory call consumes it.
        max_memory_bytes: half for the loaded candidates (rows of both stores), half for the
            engine.
        initial_candidates: L of the first round (default max(1024, 64·b)).
        max_candidates: most rows ever loaded (default: what half the budget holds).
        chunk_rows: rows per slice of the bound pass (results do not depend on it).
        **options: ``num_samples``, ``dtype``, ``lazy``: passed to the in-memory rule.

    Raises:
        InvalidInputError: unknown method, stores of different shapes, or the certificate
            still fails with ``max_candidates`` loaded.
    """
    _check_pair(store, eval_store, method)
    rule_fn, penalty = PAIRED_RULES[method]
    batch_size = check_batch_size(batch_size, store.shape[0])
    rule = Rule(rule_fn, (store, eval_store), penalty, batch_size, options)
    bounds = _first_bounds(store, eval_store, penalty, chunk_rows)
    limits = (initial_candidates, max_candidates, max_memory_bytes)
    return streamed_greedy(rule, bounds, limits, generator)
