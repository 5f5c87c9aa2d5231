"""Training a deep ensemble: every member on its own, members in parallel threads.

Deep ensembles (Lakshminarayanan et al., NeurIPS 2017) draw their diversity from each member's
own random initialisation and its own order of the training data. :func:`train_members` gives
member ``m`` a generator of its own (one draw from the caller's generator, then
:func:`~batchbald.models.ensemble.member_generators`), trains it alone with the caller's
recipe (``train_model``, the labels-only regime, ...) and stacks the trained members into a
:class:`~batchbald.models.DeepEnsemble` again.

Members are trained by ``workers`` threads at once (PyTorch's kernels release the GIL). Each
member's computation reads only its own model, optimiser and generator, and the threads share
PyTorch's intra-op thread count, so the result is bitwise the same for any number of workers
(tested).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import torch

from batchbald.errors import InvalidInputError
from batchbald.models.ensemble import DeepEnsemble, EnsembleMember, member_generators
from batchbald.training.config import TrainingConfig

__all__ = ["EnsembleProgress", "member_config", "resolve_workers", "train_members"]

Result = TypeVar("Result")


def resolve_workers(workers: int, members: int) -> int:
    """Threads to use: ``workers``, or one per CPU core when 0; never more than ``members``.

    >>> resolve_workers(3, 2), resolve_workers(1, 5)
    (2, 1)
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise InvalidInputError(f"workers must be an int ≥ 0 (0: one per core); got {workers!r}")
    wanted = workers or (os.cpu_count() or 1)
    return max(1, min(wanted, members))


def member_config(config: TrainingConfig) -> TrainingConfig:
    """``config`` for one member: validation with dropout off (a member is deterministic)."""
    return dataclasses.replace(config, validation_samples=0)


class EnsembleProgress:
    """Thread-safe mean of the members' training fractions, passed on when it grows.

    Args:
        members: M.
        report: called with the mean fraction in [0, 1] (under a lock, so in increasing order).
    """

    def __init__(self, members: int, report: Callable[[float], object] | None) -> None:
        self._done = [0.0] * members
        self._report, self._lock = report, threading.Lock()

    def member(self, index: int) -> Callable[[float], None]:
        """The progress callback of member ``index``: its own fraction done, in [0, 1]."""

        def update(fraction: float) -> None:
            with self._lock:
                self._done[index] = max(self._done[index], min(float(fraction), 1.0))
                if self._report is not None:
                    self._report(sum(self._done) / len(self._done))

        return update


def train_members(
    ensemble: DeepEnsemble,
    train_one: Callable[[EnsembleMember, torch.Generator, int], Result],
    *,
    generator: torch.Generator | None,
    workers: int = 0,
) -> tuple[DeepEnsemble, list[Result]]:
    """Train each member of ``ensemble`` on its own; the trained ensemble and the results.

    Args:
        ensemble: freshly built (its members' weights are the initialisation).
        train_one: ``train_one(member, member_generator, index)`` trains ``member`` in place
            (its data order and any randomness from ``member_generator``) and returns a result
            whose ``model`` is the trained member (an :class:`EnsembleMember`).
        generator: one draw from it seeds the members' generators.
        workers: threads training members at once (0: one per core); results do not depend
            on it.

    Returns:
        The ensemble of the trained members (eval mode) and ``train_one``'s results in member
        order.
    """
    members = [EnsembleMember(network) for network in ensemble.member_networks()]
    generators = member_generators(generator, len(members))

    def one(index: int) -> Any:
        return train_one(members[index], generators[index], index)

    # Always in pool threads, one worker included, so every worker count runs the same way.
    count = resolve_workers(workers, len(members))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ensemble") as pool:
        results = list(pool.map(one, range(len(members))))
    trained = DeepEnsemble([result.model.network for result in results])
    return trained.eval(), results
