"""Scoring a pool: K consistent MC-dropout samples of log-probabilities, streamed in chunks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import torch

from batchbald.errors import InvalidInputError
from batchbald.models.base import (
    BayesianModule,
    check_k,
    mc_dropout_disabled,
    prepared_masks,
)

__all__ = ["predict_deterministic", "predict_embeddings", "predict_log_probs"]

# BLAS picks other GEMM kernels (other rounding) for matrices with very few rows; a short chunk
# is padded (by repeating its last input) to at least this many (input, sample) rows so that
# results are bitwise independent of ``batch_size``.
MIN_ROWS = 64

Progress = Callable[[int, int], object]

#: Held while chunks are scored in parallel threads (see :func:`_map_chunks`).
_PARALLEL = threading.Lock()


def predict_log_probs(
    model: BayesianModule,
    inputs: torch.Tensor,
    k: int,
    *,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Log-probabilities of K consistent MC-dropout samples for every input.

    The K masks are drawn once from ``generator`` and shared by every input and every chunk,
    so the result does not depend on ``batch_size``. Runs under ``torch.no_grad()`` in eval
    mode, restoring the model's mode, with ``model.scoring_log_probs`` (exact fast paths).
    On CPU, a model with ``parallel_chunks`` has its chunks scored by ``torch.get_num_threads()``
    threads side by side, one torch thread each; the result is the same bit for bit. One such
    scoring runs at a time per process (a concurrent call scores its chunks in order), and a
    model instance must not be scored by two threads at once (its masks are its state).

    Args:
        model: a :class:`BayesianModule`; inputs are moved to its device chunk by chunk.
        inputs: float ``[N, ...]`` (``ImageData.inputs``), any device.
        k: number of MC dropout samples K ≥ 1.
        batch_size: inputs per chunk; default ``max(1, model.scoring_rows_per_chunk // k)``,
            at most ``model.scoring_inputs_per_chunk`` where the model sets it.
        generator: source of the K masks (one seed per dropout layer is drawn from it).
        progress: called as ``progress(done, total)`` after each chunk.

    Returns:
        ``log_probs_N_K_C``, float32, on the device of ``inputs``.

    Raises:
        InvalidInputError: bad ``model``, ``inputs``, ``k`` or ``batch_size``.
    """
    k = check_k(k)
    _check_model(model)
    chunk = _chunk_size(batch_size, k, model, cap=model.scoring_inputs_per_chunk)
    with prepared_masks(model, k, generator=generator):
        return _stream(lambda part: model.scoring_log_probs(part, k), model, inputs, chunk,
                       progress, min_inputs=-(-MIN_ROWS // k))  # fmt: skip


def predict_deterministic(
    model: BayesianModule,
    inputs: torch.Tensor,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Log-probabilities with dropout off (the paper's validation): ``float32 [N, 1, C]``.

    Args and device policy as :func:`predict_log_probs`; the single "sample" is the
    deterministic network (inverted dropout is the identity at test time).
    """
    _check_model(model)
    was_training = model.training
    model.eval()
    try:
        with mc_dropout_disabled(model):
            return _stream(
                lambda chunk: model(chunk, 1),
                model,
                inputs,
                _chunk_size(batch_size, 1, model),
                progress,
                min_inputs=MIN_ROWS,
            )
    finally:
        model.train(was_training)


def predict_embeddings(
    model: BayesianModule,
    inputs: torch.Tensor,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> torch.Tensor:
    """Penultimate features ``float32 [N, D]`` of every input (``model.embed``, eval mode).

    For embedding-based acquirers (BADGE, core-sets). Args and device policy as
    :func:`predict_deterministic`; the result does not depend on ``batch_size``.
    """
    _check_model(model)
    was_training = model.training
    model.eval()
    try:
        return _stream(model.embed, model, inputs, _chunk_size(batch_size, 1, model), progress,
                       min_inputs=MIN_ROWS)  # fmt: skip
    finally:
        model.train(was_training)


def _check_model(model: object) -> None:
    if not isinstance(model, BayesianModule):
        raise InvalidInputError(
            f"model must be a batchbald.models.BayesianModule; got {type(model).__name__}"
        )


def _chunk_size(batch_size: object, k: int, model: BayesianModule, cap: int | None = None) -> int:
    if batch_size is None:
        inputs = max(1, model.scoring_rows_per_chunk // k)
        return min(inputs, cap or inputs)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"batch_size must be an int ≥ 1 or None; got {batch_size!r}")
    return batch_size


def _stream(
    fn: Callable[[torch.Tensor], torch.Tensor],
    model: BayesianModule,
    inputs: torch.Tensor,
    batch_size: int,
    progress: Progress | None,
    *,
    min_inputs: int,
) -> torch.Tensor:
    """``fn`` over ``inputs`` chunk by chunk into one float32 tensor on the inputs' device."""
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.dim() < 2:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise InvalidInputError(f"inputs must be a float tensor [N, ...]; got {shape}")
    total = inputs.shape[0]
    if total == 0:
        raise InvalidInputError("inputs must hold at least one point; got N = 0")
    parameter = next(model.parameters())

    def score(start: int) -> torch.Tensor:
        chunk = inputs[start : start + batch_size].to(parameter.device, parameter.dtype)
        size = chunk.shape[0]
        if size < min_inputs:
            padding = chunk[-1:].expand(min_inputs - size, *chunk.shape[1:])
            chunk = torch.cat([chunk, padding])
        with torch.no_grad():  # per thread: grad mode is thread-local
            return fn(chunk)[:size]

    first = score(0)  # in this thread: lazily drawn masks are drawn once, before any worker
    out = torch.empty(total, *first.shape[1:], dtype=torch.float32, device=inputs.device)
    starts = range(0, total, batch_size)
    workers = _workers(model, parameter.device, len(starts))
    for start, log_probs in _map_chunks(score, starts[1:], workers, first):
        out[start : start + log_probs.shape[0]] = log_probs
        if progress is not None:
            progress(start + log_probs.shape[0], total)
    return out


def _workers(model: BayesianModule, device: torch.device, chunks: int) -> int:
    """Threads to score chunks side by side: torch's thread count for CPU models that allow it."""
    if not model.parallel_chunks or device.type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), chunks - 1))


def _map_chunks(
    score: Callable[[int], torch.Tensor], starts: range, workers: int, first: torch.Tensor
) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, score(start))`` in order, the first chunk's already computed.

    With ``workers > 1``, ``workers`` threads score the chunks, each with one torch thread
    (``torch.set_num_threads`` is process-wide: restored afterwards); a chunk's result does
    not depend on the thread count (tested), so neither does the output.
    """
    yield 0, first
    # One parallel scoring at a time per process: a second (another thread's) runs in order,
    # so no two of them save and restore the process-wide thread count over each other.
    if workers <= 1 or not _PARALLEL.acquire(blocking=False):
        yield from ((start, score(start)) for start in starts)
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="batchbald-scoring")
    try:
        yield from zip(starts, pool.map(score, starts), strict=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
        _PARALLEL.release()
