"""What a config asks of its data, checked before the first trial starts (issue 25).

Some config values only the data can refute: a subsample larger than the dataset, more
initial points per class than a class holds, a validation set larger than what is left, a batch
larger than the pool. :func:`~batchbald.experiments.components.prepare_data` and
:func:`~batchbald.experiments.components.make_trial_split` call these checks (so the Python API
gets them too), and :func:`preflight` runs both for every experiment before the runner starts
a trial. Each error is a :class:`~batchbald.errors.ConfigError` naming the key; nothing is
silently clamped, so a trial file records only values that were used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from batchbald.errors import ConfigError

__all__ = [
    "check_initial_per_class",
    "check_subsample",
    "check_validation_size",
    "preflight",
]


def check_subsample(count: int, size: int, key: str, what: str, *, kept: int = 0) -> None:
    """``key = count`` must be 0 (keep all) or lie in ``[kept, size]``.

    Args:
        count: the configured subsample size.
        size: the points there are.
        key: the config key, e.g. ``"data.train_subsample"``.
        what: what the points are, e.g. ``"training points of 'mnist'"``.
        kept: points the subsample always keeps (the paper's initial set).
    """
    if count == 0:
        return
    if count > size:
        raise ConfigError(
            f"{key} must be ≤ the {size} {what} (0 keeps all); got {count}. Lower it or set 0"
        )
    if count < kept:
        raise ConfigError(
            f"{key} must be ≥ {kept}: the subsample always keeps the paper's {kept} initial "
            f"points (data.initial = 'paper_mnist'); got {count}"
        )


def check_initial_per_class(
    labels_N: torch.Tensor, num_classes: int, per_class: int, class_names: Sequence[str] = ()
) -> None:
    """Every class must hold ``data.initial_per_class`` labelled points (balanced initial set)."""
    counts = torch.bincount(labels_N[labels_N >= 0], minlength=num_classes)[:num_classes]
    if len(counts) and int(counts.min()) < per_class:
        smallest = int(counts.argmin())
        name = class_names[smallest] if smallest < len(class_names) else str(smallest)
        raise ConfigError(
            f"data.initial_per_class must be ≤ the labelled points of every class "
            f"(initial = 'balanced'); class {name!r} has {int(counts.min())}; got {per_class}"
        )


def check_validation_size(validation_size: int, candidates: int, initial: int) -> None:
    """``data.validation_size`` must fit in the labelled points left after the initial set."""
    if validation_size > candidates:
        raise ConfigError(
            f"data.validation_size must be ≤ the {candidates} labelled training points left "
            f"after the {initial} initial ones; got {validation_size}"
        )


def _check_batch_sizes(config: Any, pool_size: int) -> None:
    """Every method's ``batch_size`` must be ≤ the pool a trial starts from."""
    for position, method in enumerate(config.methods):
        if method.batch_size > pool_size:
            raise ConfigError(
                f"methods[{position}].batch_size must be ≤ the pool of {pool_size} points a "
                f"trial starts from (training points minus initial and validation sets); got "
                f"{method.batch_size}"
            )


def preflight(specs: Sequence[Any]) -> None:
    """Check every experiment of ``specs`` against its data, before any trial runs.

    Prepares each experiment's data once, builds a trial split and checks each method's batch
    size against its pool. The data is not kept: trials run in other processes (or reload it).

    Raises:
        ConfigError: a value the data cannot satisfy; ``<experiment>: <key> must be ...``.
        DataError: the data cannot be read.
    """
    from batchbald.experiments.components import make_trial_split, prepare_data

    seen = set()
    for spec in specs:
        if spec.config["name"] in seen:
            continue
        seen.add(spec.config["name"])
        config = spec.experiment()
        try:
            data = prepare_data(config.data, data_dir=spec.data_dir, download=spec.download)
            # Split sizes do not depend on the draws: any generator checks them.
            split = make_trial_split(data.train, config.data, torch.Generator().manual_seed(0))
            _check_batch_sizes(config, len(split.pool_indices))
        except ConfigError as error:
            raise ConfigError(f"{config.name}: {error}") from None
