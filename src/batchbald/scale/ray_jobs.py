"""Ray executor of pool scoring: one task per shard, results written by the driver.

The tasks run :func:`~batchbald.scale.scoring.score_shard`, the local code. The model and the
pool inputs are put in Ray's object store once; at most ``2 · CPUs`` tasks are in flight. A task
whose worker dies is retried by Ray (``max_retries``); a shard that still fails raises
:class:`~batchbald.errors.ClusterError` naming it, after the shards already finished are
written, so running the job again resumes instead of starting over. No shard is ever written
twice or skipped: the driver writes exactly the results it receives, one per shard.
"""

from __future__ import annotations

import socket
from typing import Any

from batchbald.errors import BatchBALDError, ClusterError, InvalidInputError

__all__ = ["MAX_RETRIES", "check_address", "connect", "executor"]

# Ray retries a task whose worker process died this many times before giving up.
MAX_RETRIES = 3
CONNECT_TIMEOUT_S = 5.0


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BatchBALDError(
            "scoring on Ray needs the ray package: pip install 'batchbald[ray]'"
        ) from None
    return ray


def check_address(address: str) -> None:
    """Fail fast, with a named error, when nothing listens at ``host:port`` ("auto": no check).

    Needs no Ray: the command line checks the address before it loads the pool.

    Raises:
        InvalidInputError: ``address`` is not ``host:port`` / ``ray://host:port``.
        ClusterError: nothing answers there.
    """
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError(
            f"--ray-address must be host:port (e.g. 10.0.0.5:6379); got {address!r}"
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise ClusterError(
            f"cannot reach the Ray cluster at --ray-address {address!r}: {error} "
            "(is `ray start --head` running there, and is the port open?)"
        ) from None


def connect(address: str | None = None, workers: int = 2) -> Any:
    """Join the cluster at ``address`` or start a local Ray instance with ``workers`` CPUs.

    Reuses a running connection. Returns the ``ray`` module.

    Raises:
        ClusterError: ``address`` does not answer, or Ray fails to connect.
    """
    if address is not None:
        check_address(address)
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    try:
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, TimeoutError) as error:
        raise ClusterError(
            f"cannot connect to Ray at {address or 'a new local instance'}: {error}"
        ) from None
    return ray


def _score_remote(model: Any, inputs: Any, rows: slice, k: int, state: Any, batch_size: Any) -> Any:
    import torch

    from batchbald.scale.scoring import score_shard

    torch.set_num_threads(1)
    return score_shard(model, inputs[rows], k, state, batch_size)


def executor(address: str | None, workers: int) -> Any:
    """A scoring executor (see :mod:`batchbald.scale.scoring`) that runs shards on Ray."""
    ray = connect(address, workers)
    task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(_score_remote)

    def run(model, inputs, k, state, batch_size, shards, on_shard) -> None:
        model_ref, inputs_ref = ray.put(model), ray.put(inputs)
        queue = list(shards)
        in_flight: dict[Any, int] = {}
        limit = 2 * max(1, int(ray.available_resources().get("CPU", workers)))
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                index, rows = queue.pop(0)
                ref = task.remote(model_ref, inputs_ref, rows, k, state, batch_size)
                in_flight[ref] = index
            done, _ = ray.wait(list(in_flight), num_returns=1)
            index = in_flight.pop(done[0])
            try:
                log_probs = ray.get(done[0])
            except ray.exceptions.RayError as error:
                for ref in in_flight:
                    ray.cancel(ref)
                _raise_task_input_error(error, index)
                raise ClusterError(
                    f"shard {index} failed on Ray after {MAX_RETRIES} retries: "
                    f"{type(error).__name__}: {error}; the finished shards are written, run "
                    "the job again to resume"
                ) from None
            on_shard(index, log_probs)

    return run


def _raise_task_input_error(error: Exception, index: int) -> None:
    """Re-raise a library error a task raised (bad input, e.g. an unreadable image) as itself.

    Ray wraps it in a ``RayTaskError`` whose text carries the remote traceback; the task's own
    error says what is wrong in one line, and retrying would not help. Other failures return.
    """
    cause = getattr(error, "cause", None)
    if not isinstance(cause, BatchBALDError):
        return
    try:
        named = type(cause)(f"shard {index}: {cause}")
    except TypeError:  # an error class with other constructor arguments
        named = cause
    raise named from None
