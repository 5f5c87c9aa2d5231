"""From a config to the loop's parts: the data, the trial's split, and config-time checks."""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import torch

from batchbald.data import (
    FLAWS,
    PAPER_MNIST_INITIAL_INDICES,
    ActiveLearningData,
    DatasetSplits,
    ImageData,
    apply_flaws,
    available_datasets,
    balanced_initial_indices,
    load_dataset,
    random_validation_indices,
)
from batchbald.data.embeddings import EMBEDDINGS_PREFIX, load_embeddings
from batchbald.errors import BatchBALDError, ConfigError
from batchbald.experiments._checks import FieldError, join_path
from batchbald.experiments.preflight import (
    check_initial_per_class,
    check_subsample,
    check_validation_size,
)
from batchbald.experiments.synthetic import SYNTHETIC_NAME, synthetic_dataset
from batchbald.loop import derive_seed

__all__ = [
    "available_dataset_names",
    "check_flaws",
    "check_training_settings",
    "fetch_data",
    "make_trial_split",
    "prepare_data",
]

# Flaw arguments that are not keyword parameters of the transform itself.
_FLAW_EXTRAS = {"ood_contamination": {"dataset", "split"}}


def available_dataset_names() -> list[str]:
    """Every dataset a config may name: the registered IDX datasets and "synthetic".

    Precomputed features are named ``"embeddings:FOLDER"`` (see ``docs/models.md``).
    """
    return sorted([*available_datasets(), SYNTHETIC_NAME])


def fetch_data(
    config: Any, *, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> None:
    """Make sure ``config.dataset``'s files are present, downloading them if allowed.

    The runner calls it once before starting trials, so a missing dataset is one error (not
    one per trial) and parallel workers never download the same file at the same time.

    Raises:
        DataError: the files are missing and cannot be downloaded.
    """
    if config.dataset == SYNTHETIC_NAME or config.dataset.startswith(EMBEDDINGS_PREFIX):
        return
    if config.source:
        return
    from batchbald.data import get_dataset_spec, resolve_data_dir
    from batchbald.data.fetch import locate_files

    locate_files(get_dataset_spec(config.dataset), resolve_data_dir(data_dir), download=download)


def check_flaws(value: Any, field: str) -> tuple[Mapping[str, Any], ...]:
    """Validate ``[[data.flaws]]``: known names and argument names (values are checked at use)."""
    if not isinstance(value, (list, tuple)):
        raise FieldError(field, f"must be an array of tables; got {value!r}")
    flaws = []
    for position, flaw in enumerate(value):
        where = join_path(field, position)
        if not isinstance(flaw, Mapping) or not isinstance(flaw.get("name"), str):
            raise FieldError(where, f"must be a table with a name; got {flaw!r}")
        name = flaw["name"]
        if name not in FLAWS:
            raise FieldError(f"{where}.name", f"must be one of {', '.join(FLAWS)}; got {name!r}")
        parameters = inspect.signature(FLAWS[name]).parameters
        allowed = {*list(parameters)[1:], *_FLAW_EXTRAS.get(name, ())} - {"generator"}
        unknown = sorted(set(flaw) - allowed - {"name"})
        if unknown:
            raise FieldError(
                f"{where}.{unknown[0]}", f"is not an argument of {name}; valid: {sorted(allowed)}"
            )
        flaws.append(MappingProxyType(dict(flaw)))
    return tuple(flaws)


def check_training_settings(settings: dict[str, Any], path: str) -> dict[str, Any]:
    """Keys and values of ``[training]`` must make a valid ``TrainingConfig``."""
    from batchbald.training import TrainingConfig

    names = [item.name for item in dataclasses.fields(TrainingConfig)]
    unknown = sorted(set(settings) - set(names))
    if unknown:
        raise ConfigError(
            f"{join_path(path, unknown[0])}: unknown key; valid keys at {path}: {', '.join(names)}"
        )
    try:
        TrainingConfig(**settings)
    except (BatchBALDError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: {error}") from None
    return settings


def _random_subset(
    size: int, count: int, keep: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """``count`` sorted row indices out of ``size`` (all when 0), always including ``keep``.

    ``count`` was checked by :func:`~batchbald.experiments.preflight.check_subsample`.
    """
    if count == 0 or count == size:
        return torch.arange(size)
    chosen = torch.zeros(size, dtype=torch.bool)
    chosen[keep] = True
    others = torch.nonzero(~chosen).flatten()
    extra = count - int(chosen.sum())
    chosen[others[torch.randperm(len(others), generator=generator)[:extra]]] = True
    return torch.nonzero(chosen).flatten()


def _load(config: Any, generator: torch.Generator, data_dir: Any, download: bool) -> DatasetSplits:
    """The whole train and test data ``config`` names (a source, synthetic, features, IDX)."""
    if config.source:
        from batchbald.data.source_data import load_source_splits

        return load_source_splits(config.source, config.test_source)
    if config.dataset == SYNTHETIC_NAME:
        return synthetic_dataset(generator=generator)
    if config.dataset.startswith(EMBEDDINGS_PREFIX):
        return load_embeddings(config.dataset[len(EMBEDDINGS_PREFIX) :])
    return load_dataset(config.dataset, data_dir=data_dir, download=download)


def prepare_data(
    config: Any, *, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> DatasetSplits:
    """Load ``config.dataset``, subsample it, hold out the target set, apply the flaws.

    The test set and the target set (``config.target_size``; ``None`` when 0) stay clean.

    Args:
        config: a :class:`~batchbald.experiments.config.DataConfig`.
        data_dir: the dataset folder (see :func:`batchbald.data.load_dataset`).
        download: fetch missing files (see :func:`batchbald.data.load_dataset`).

    Raises:
        DataError: the dataset's files are missing and cannot be downloaded.
        ConfigError: ``train_subsample`` or ``test_subsample`` exceeds the data (named).
    """
    generator = torch.Generator().manual_seed(derive_seed(config.seed, "data"))
    splits = _load(config, generator, data_dir, download)
    train, test = splits.train, splits.test
    keep = torch.zeros(0, dtype=torch.long)
    if config.initial == "paper_mnist" and len(train) > max(PAPER_MNIST_INITIAL_INDICES):
        keep = torch.tensor(PAPER_MNIST_INITIAL_INDICES)
    what = f"points of {config.source or config.dataset!r}"
    check_subsample(
        config.train_subsample, len(train), "data.train_subsample", f"training {what}",
        kept=len(keep),
    )  # fmt: skip
    check_subsample(config.test_subsample, len(test), "data.test_subsample", f"test {what}")
    train = train.subset(_random_subset(len(train), config.train_subsample, keep, generator))
    train, target = _hold_out_target(train, config, keep)
    train = apply_flaws(
        train,
        [dict(flaw) for flaw in config.flaws],
        generator=generator,
        dataset_name=None if config.dataset == SYNTHETIC_NAME else config.dataset,
        data_dir=data_dir,
        download=download,
    )
    test = test.subset(_random_subset(len(test), config.test_subsample, keep[:0], generator))
    return DatasetSplits(train=train, test=test, name=config.dataset, target=target)


def _hold_out_target(
    train: ImageData, config: Any, keep: torch.Tensor
) -> tuple[ImageData, ImageData | None]:
    """``config.target_size`` random rows of ``train`` as the target set; the rest stay training.

    Drawn from their own generator (``derive_seed(seed, "target")``), so a config without a
    target set prepares exactly the data it always did. The paper's initial points (source
    indices ``keep``) are never held out.

    Raises:
        ConfigError: ``target_size`` leaves no training point (named, with the count there is).
    """
    if config.target_size == 0:
        return train, None
    eligible = ~torch.isin(train.source_index, keep)
    candidates = torch.nonzero(eligible).flatten()
    if config.target_size >= len(candidates):
        raise ConfigError(
            f"data.target_size must be < the {len(candidates)} training points that can be "
            f"held out as target inputs; got {config.target_size}. Lower it or set 0"
        )
    generator = torch.Generator().manual_seed(derive_seed(config.seed, "target"))
    chosen = torch.zeros(len(train), dtype=torch.bool)
    picked = candidates[torch.randperm(len(candidates), generator=generator)[: config.target_size]]
    chosen[picked] = True
    target = train.subset(torch.nonzero(chosen).flatten())
    return train.subset(torch.nonzero(~chosen).flatten()), target


def _paper_initial_rows(train: ImageData) -> torch.Tensor:
    """Rows of the paper's 20 initial MNIST points (first copy when repeated)."""
    rows = []
    for index in PAPER_MNIST_INITIAL_INDICES:
        matches = torch.nonzero((train.source_index == index) & ~train.is_ood).flatten()
        if matches.numel() == 0:
            raise ConfigError(
                f"data.initial = 'paper_mnist' needs MNIST training point {index}, which this "
                "data does not contain (not MNIST, or removed by a flaw); use initial = 'balanced'"
            )
        rows.append(int(matches[0]))
    return torch.tensor(rows)


def make_trial_split(
    train: ImageData, config: Any, generator: torch.Generator
) -> ActiveLearningData:
    """A trial's initial labelled set, random validation set and pool.

    Args:
        train: the prepared training data.
        config: a :class:`~batchbald.experiments.config.DataConfig`.
        generator: draws the balanced initial set (if any) and the validation set.

    Raises:
        ConfigError: ``initial``, ``initial_per_class`` or ``validation_size`` asks for points
            the data does not have (named; :mod:`~batchbald.experiments.preflight`).
    """
    if config.initial == "paper_mnist":
        initial = _paper_initial_rows(train)
    elif config.initial == "balanced":
        check_initial_per_class(
            train.labels, train.num_classes, config.initial_per_class, train.class_names
        )
        initial = balanced_initial_indices(
            train.labels,
            config.initial_per_class,
            generator=generator,
            num_classes=train.num_classes,
        )
    else:
        initial = torch.zeros(0, dtype=torch.long)
    remaining = train.labels >= 0
    remaining[initial] = False
    candidates = torch.nonzero(remaining).flatten()
    check_validation_size(config.validation_size, len(candidates), len(initial))
    validation = random_validation_indices(candidates, config.validation_size, generator=generator)
    return ActiveLearningData(len(train), labelled_indices=initial, validation_indices=validation)
