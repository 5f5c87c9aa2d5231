"""``batchbald acquire`` over a store: the streaming path the acquire command hands over to.

The acquire command calls :func:`streams` first; when it says yes (a store directory, or a
``.npy`` file larger than :data:`STREAM_MIN_BYTES`), :func:`select_from_store` selects the batch
without loading the pool (and prints the work done); the command prints the same table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from batchbald.acquisition import AcquisitionResult, get_acquirer, random_batch
from batchbald.errors import InvalidInputError
from batchbald.scale.greedy import describe, streamed_batchbald
from batchbald.scale.greedy_pair import PAIRED_RULES, streamed_batch_evaluation
from batchbald.scale.store import LogProbStore, open_store
from batchbald.scale.streaming import streamed_stochastic, streamed_top_k

__all__ = ["STREAMABLE", "STREAM_MIN_BYTES", "select", "select_from_store", "streams"]

# Registry name -> (per-point score, sampling mode or None for top-b): "bald", "power_bald", ...
# (the registry's naming); "batchbald" and "random" have their own paths.
_RULES: dict[str, tuple[str, str | None]] = {
    **{score: (score, None) for score in ("bald", "entropy", "variation_ratios", "mean_std")},
    **{
        f"{mode}_{score}": (score, mode)
        for score in ("bald", "entropy", "variation_ratios", "mean_std")
        for mode in ("power", "softmax", "softrank")
    },
}
STREAMABLE = (*sorted(_RULES), "batchbald", "random")


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):
        return 2**34


# A .npy file larger than this streams instead of loading (half the memory free at start-up).
STREAM_MIN_BYTES = _memory_bytes() // 2


def streams(path: str | Path, method: str, eval_path: str | Path | None = None) -> bool:
    """Whether ``batchbald acquire`` should stream ``path`` instead of loading it.

    The evaluation rules (``batch_evaluation_bald``, ``batch_eig``) stream when ``path`` and
    ``eval_path`` (``--eval-log-probs``) are both store directories.

    Raises:
        InvalidInputError: a store directory with a method that cannot stream it.
    """
    path = Path(path)
    if path.is_dir():
        paired = method in PAIRED_RULES and eval_path is not None and Path(eval_path).is_dir()
        if not paired and (method not in STREAMABLE or eval_path is not None):
            raise InvalidInputError(
                f"method {method!r} cannot stream a store directory; methods that can: "
                f"{', '.join(STREAMABLE)}; and {', '.join(PAIRED_RULES)} with an "
                "--eval-log-probs store directory"
            )
        return True
    return (
        path.suffix.lower() == ".npy"
        and path.is_file()
        and path.stat().st_size > STREAM_MIN_BYTES
        and method in STREAMABLE
        and eval_path is None
    )


def select(
    store: LogProbStore,
    method: str,
    params: dict[str, Any],
    batch_size: int,
    seed: int,
    eval_store: LogProbStore | None = None,
):
    """The batch of ``method`` over ``store`` and the work counters (``{}`` for one-pass rules)."""
    generator = torch.Generator().manual_seed(seed)
    if method == "batchbald":
        batch = streamed_batchbald(store, batch_size, generator=generator, **params)
        return batch.result, describe(batch, store.shape[0])
    if method in PAIRED_RULES:
        batch = streamed_batch_evaluation(
            store, eval_store, batch_size, method=method, generator=generator, **params
        )
        return batch.result, describe(batch, store.shape[0])
    if method == "random":
        return random_batch(store.shape[0], batch_size, generator=generator), {}
    score, mode = _RULES[method]
    if mode is None:
        return streamed_top_k(store, score, batch_size), {}
    coldness = params.get("coldness", 1.0)
    result = streamed_stochastic(
        store, score, batch_size, mode=mode, coldness=coldness, generator=generator
    )
    return result, {}


def select_from_store(args: Any) -> tuple[AcquisitionResult, list[int], dict[str, Any]]:
    """The acquire command's batch over a store: ``(result, [N, K, C], params)``.

    Prints one line first: the store's size, and for BatchBALD the candidates loaded.
    """
    acquirer = get_acquirer(args.method, **dict(args.param))  # validates the parameters
    store = open_store(args.log_probs)
    eval_store = open_store(args.eval_log_probs) if args.method in PAIRED_RULES else None
    params = dict(acquirer.params)
    result, work = select(store, args.method, params, args.batch_size, args.seed, eval_store)
    line = f"streamed from a {store.nbytes / 2**30:.2f} GiB store"
    if work:
        line += f"; candidates loaded: {work['candidates_loaded']} in {work['rounds']} round(s)"
    print(line)
    return result, list(store.shape), params
