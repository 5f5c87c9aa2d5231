"""Pool scoring into a store, shard by shard: locally, or as Ray tasks with the same results.

Every shard is scored by :func:`score_shard`, which calls the library's
:func:`~batchbald.models.predict_log_probs` on the shard's inputs with a generator restored to
one saved state: every shard (on any machine) draws the same K dropout masks the whole-pool
call draws, and ``predict_log_probs`` is bitwise independent of how the pool is chunked, so the
store holds byte for byte what local scoring of the whole pool returns (tested). Shards are
written as they finish by one writer (atomic, see :class:`~batchbald.scale.writer.StoreWriter`);
a job started again with the same arguments scores only the shards not yet written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule, predict_log_probs
from batchbald.models.base import prepared_masks
from batchbald.scale.store import LogProbStore, open_store
from batchbald.scale.writer import StoreWriter

__all__ = ["predict_sharded", "score_shard", "score_to_store"]

Shard = tuple[int, slice]
# (model, inputs, k, state, batch_size, shards, on_shard) -> None; on_shard(index, log_probs)
Executor = Callable[..., None]


def score_shard(
    model: BayesianModule,
    inputs_n: torch.Tensor,
    k: int,
    generator_state: torch.Tensor,
    batch_size: int | None = None,
) -> np.ndarray:
    """Log-probabilities ``float32 [n, K, C]`` of one shard with the masks of ``generator_state``.

    The unit of work of every executor (local loop or Ray task).
    """
    generator = torch.Generator()
    generator.set_state(generator_state)
    return predict_log_probs(model, inputs_n, k, batch_size=batch_size, generator=generator).numpy()


def run_local(model, inputs, k, state, batch_size, shards, on_shard) -> None:
    """The local executor: shards one after the other in this process."""
    for index, rows in shards:
        on_shard(index, score_shard(model, inputs[rows], k, state, batch_size))


def _executor(ray_address: str | None, use_ray: bool, workers: int) -> Executor:
    if not use_ray and ray_address is None:
        return run_local
    from batchbald.scale import ray_jobs  # imports ray lazily, with a named error if absent

    return ray_jobs.executor(ray_address, workers)


def _advance(model: BayesianModule, k: int, generator: torch.Generator | None) -> torch.Tensor:
    """The generator's state before the masks are drawn.

    Then draws them as the local call would, so the caller's generator ends where
    ``predict_log_probs`` would leave it.
    """
    generator = generator if generator is not None else torch.default_generator
    state = generator.get_state()
    with prepared_masks(model, k, generator=generator):
        pass
    return state


def _check_shard_rows(shard_rows: object) -> int:
    if isinstance(shard_rows, bool) or not isinstance(shard_rows, int) or shard_rows < 1:
        raise InvalidInputError(f"shard_rows must be an int ≥ 1; got {shard_rows!r}")
    return shard_rows


def score_to_store(
    model: BayesianModule,
    inputs: torch.Tensor,
    k: int,
    path: str | Path,
    *,
    generator: torch.Generator | None = None,
    shard_rows: int = 65_536,
    batch_size: int | None = None,
    use_ray: bool = False,
    ray_address: str | None = None,
    workers: int = 2,
) -> LogProbStore:
    """Score the pool into the store at ``path`` (resuming one of the same layout); open it.

    Args:
        model: the :class:`~batchbald.models.BayesianModule`, as in ``predict_log_probs``.
        inputs: ``[N, ...]`` pool inputs on the CPU.
        k: K, the MC-dropout samples.
        path: the store directory.
        generator: source of the K masks, consumed as ``predict_log_probs`` consumes it.
        shard_rows: rows per shard (the unit of work and of resumption).
        batch_size: inputs per forward chunk inside a shard (memory only).
        use_ray: run shards as Ray tasks (a local Ray instance unless ``ray_address``).
        ray_address: ``host:port`` of a Ray cluster (implies ``use_ray``).
        workers: CPUs of the local Ray instance (ignored on a cluster).

    Raises:
        StoreError: ``path`` holds a store of another layout.
        ClusterError: the cluster is unreachable, or a shard failed after Ray's retries.
    """
    state = _advance(model, k, generator)
    num_classes = int(score_shard(model, inputs[:1], 1, state, batch_size).shape[-1])
    layout = {"num_rows": len(inputs), "num_samples": k, "num_classes": num_classes}
    writer = StoreWriter(path, shard_rows=_check_shard_rows(shard_rows), **layout)
    if shards := [(index, writer.rows_of(index)) for index in writer.pending]:
        run = _executor(ray_address, use_ray, workers)
        run(model, inputs, k, state, batch_size, shards, writer.write)
    return open_store(path)


def predict_sharded(
    model: BayesianModule,
    inputs: torch.Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    shard_rows: int = 4096,
    batch_size: int | None = None,
    use_ray: bool = True,
    ray_address: str | None = None,
    workers: int = 2,
) -> torch.Tensor:
    """``predict_log_probs(model, inputs, k, generator=...)`` computed shard by shard.

    On Ray by default, in memory: the same tensor, bit for bit, and the generator left in the
    same state. The keyword arguments are those of :func:`score_to_store`.
    """
    shard_rows = _check_shard_rows(shard_rows)
    state = _advance(model, k, generator)
    parts: dict[int, np.ndarray] = {}
    shards = [
        (index, slice(start, min(start + shard_rows, len(inputs))))
        for index, start in enumerate(range(0, len(inputs), shard_rows))
    ]
    executor = _executor(ray_address, use_ray, workers)
    executor(model, inputs, k, state, batch_size, shards, parts.__setitem__)
    return torch.from_numpy(np.concatenate([parts[index] for index, _ in shards]))


class ShardedLearner:
    """A :class:`~batchbald.loop.Learner` whose pool scoring runs shard by shard on Ray.

    Training, evaluation and distillation are the wrapped learner's; ``predict`` returns what
    the wrapped learner's would (the library's ``predict_log_probs`` with
    ``generators.dropout``), computed by :func:`predict_sharded`.
    """

    def __init__(self, learner: Any, **options: Any) -> None:
        self.learner, self.options = learner, options

    def __getattr__(self, name: str) -> Any:
        return getattr(self.learner, name)

    def predict(self, model: Any, inputs: torch.Tensor, k: int, generators: Any) -> torch.Tensor:
        """Log-probabilities ``[N, K, C]``, scored in shards on Ray."""
        return predict_sharded(model, inputs, k, generator=generators.dropout, **self.options)
