"""Apply a sequence of named flaws (from a config file) to a dataset, reproducibly.

A flaw is a mapping with a ``name`` and that transform's keyword arguments, e.g. (TOML)::

    [[data.flaws]]
    name = "class_imbalance"
    keep_fractions = [1.0, 1.0, 0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1]

    [[data.flaws]]
    name = "repeated"
    copies = 3

    [[data.flaws]]
    name = "noisy_oracle"
    rate = 0.1

Each flaw draws from its own generator, seeded in order from the one passed in, so adding a
flaw at the end does not change the earlier ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from batchbald.data._checks import check_generator, child_generator
from batchbald.data.catalog import get_dataset_spec
from batchbald.data.dataset import ImageData
from batchbald.data.flaws import class_imbalance, heteroscedastic_noise
from batchbald.data.label_noise import noisy_oracle
from batchbald.data.loading import load_dataset
from batchbald.data.ood import ood_contamination
from batchbald.data.repeated import repeated
from batchbald.errors import ConfigError, InvalidInputError, UnknownNameError

__all__ = ["FLAWS", "apply_flaws"]

FLAWS: dict[str, Callable[..., ImageData]] = {
    "repeated": repeated,
    "class_imbalance": class_imbalance,
    "noisy_oracle": noisy_oracle,
    "heteroscedastic_noise": heteroscedastic_noise,
    "ood_contamination": ood_contamination,
}


def apply_flaws(
    data: ImageData,
    flaws: Sequence[Mapping[str, Any]],
    *,
    generator: torch.Generator | None,
    dataset_name: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> ImageData:
    """Apply ``flaws`` in order (each ``{"name": ..., **kwargs}``).

    Args:
        data: usually the training split of a loaded dataset.
        flaws: the transforms; names are the keys of :data:`FLAWS`. For
            ``ood_contamination``, ``dataset = "<name>"`` (and optionally ``split``, default
            ``"train"``) loads the OOD images, normalised with ``dataset_name``'s statistics.
        generator: seeds one child generator per flaw, in order.
        dataset_name: the dataset ``data`` came from (needed for OOD contamination by name).
        data_dir: passed to :func:`load_dataset` for OOD datasets.
        download: passed to :func:`load_dataset` for OOD datasets.

    Raises:
        UnknownNameError: an unknown flaw name (the message lists the valid ones).
        ConfigError: a flaw's arguments are wrong (the message names the flaw).
    """
    generator = check_generator(generator)
    for position, flaw in enumerate(flaws):
        params = dict(flaw)
        name = params.pop("name", None)
        if name not in FLAWS:
            raise UnknownNameError(
                f"flaws[{position}] has unknown name {name!r}; valid names: {', '.join(FLAWS)}"
            )
        params["generator"] = child_generator(generator)
        _prepare(name, params, dataset_name, data_dir, download)
        try:
            data = FLAWS[name](data, **params)
        except (TypeError, InvalidInputError) as error:
            raise ConfigError(f"flaws[{position}] ({name}): {error}") from error
    return data


def _prepare(
    name: str,
    params: dict[str, Any],
    dataset_name: str | None,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
) -> None:
    """Turn a config's flaw arguments into the transform's (in place)."""
    if name == "heteroscedastic_noise" and isinstance(params.get("noise_stds"), list):
        params["noise_stds"] = tuple(params["noise_stds"])
    if name == "ood_contamination" and "dataset" in params:
        params["ood"] = _load_ood(params, dataset_name, data_dir, download)


def _load_ood(
    params: dict[str, Any],
    dataset_name: str | None,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
) -> ImageData:
    ood_name = params.pop("dataset")
    split = params.pop("split", "train")
    if dataset_name is None:
        raise ConfigError(
            f"ood_contamination with dataset={ood_name!r} needs dataset_name (the in-distribution "
            "dataset) so the OOD images are normalised with its mean and std"
        )
    if split not in ("train", "test"):
        raise ConfigError(f"ood_contamination split must be 'train' or 'test'; got {split!r}")
    target = get_dataset_spec(dataset_name)
    splits = load_dataset(
        ood_name, data_dir=data_dir, download=download, mean=target.mean, std=target.std
    )
    return splits.train if split == "train" else splits.test
