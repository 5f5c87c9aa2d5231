"""Pools of precomputed feature vectors: ``.npy`` float32 ``[N, D]`` files, memory-mapped.

A folder holds ``train_features.npy`` ``[N, D]``, ``train_labels.npy`` ``[N]`` (integers), and
``test_features.npy`` / ``test_labels.npy``; experiment configs name it as
``dataset = "embeddings:PATH"``. :func:`write_demo_embeddings` writes a small synthetic folder
(Gaussian class clusters) for examples and tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from batchbald.atomic import atomic_write
from batchbald.data.array_files import check_labels, load_npy
from batchbald.data.dataset import ImageData
from batchbald.data.loading import DatasetSplits
from batchbald.errors import DataError, InvalidInputError

__all__ = ["EMBEDDINGS_PREFIX", "load_embeddings", "write_demo_embeddings"]

EMBEDDINGS_PREFIX = "embeddings:"
_FILES = ("train_features", "train_labels", "test_features", "test_labels")


def _split(directory: Path, part: str, num_classes: int | None) -> ImageData:
    # Copy-on-write memory maps: pages are read on use, the files are never written.
    features = load_npy(directory / f"{part}_features.npy", "embeddings file", mmap=True)
    labels_path = directory / f"{part}_labels.npy"
    labels = load_npy(labels_path, "embeddings file", mmap=True)
    if features.dtype != np.float32 or features.ndim != 2:
        raise InvalidInputError(
            f"{part}_features.npy must be float32 [N, D]; got {features.dtype} {features.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise InvalidInputError(
            f"{part}_labels.npy must be integers [N] with N = {features.shape[0]}; got "
            f"{labels.dtype} {labels.shape}"
        )
    where = f"embeddings file {str(labels_path)!r}"
    labels_t = torch.from_numpy(check_labels(labels, where, num_classes))
    if part == "train" and not len(labels_t):
        raise DataError(f"{where}: expected at least one training point; found none")
    classes = num_classes if num_classes is not None else int(labels_t.max()) + 1
    return ImageData(torch.from_numpy(features), labels_t, classes)


def load_embeddings(directory: str | os.PathLike[str]) -> DatasetSplits:
    """Train and test :class:`ImageData` over memory-mapped feature files (see module doc).

    Raises:
        DataError: a file is missing, a directory, not a ``.npy`` file or unreadable; labels
            are not whole numbers ≥ 0 (test labels: < the training set's C); no training point.
        InvalidInputError: features are not float32 ``[N, D]`` or labels not integers ``[N]``.
    """
    directory = Path(directory)
    train = _split(directory, "train", None)
    test = _split(directory, "test", train.num_classes)
    if test.inputs.shape[1] != train.inputs.shape[1]:
        raise InvalidInputError(
            f"train and test features must have the same D; got {train.inputs.shape[1]} and "
            f"{test.inputs.shape[1]}"
        )
    return DatasetSplits(train=train, test=test, name=f"{EMBEDDINGS_PREFIX}{directory}")


def write_demo_embeddings(
    directory: str | os.PathLike[str],
    *,
    num_train: int = 2000,
    num_test: int = 500,
    dim: int = 32,
    num_classes: int = 10,
    generator: torch.Generator,
) -> Path:
    """Write a synthetic embeddings folder: class means ``N(0, I)``, points ``mean + N(0, 1.5² I)``.

    Files are written to a temporary name and renamed (atomic). Returns the folder.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    means = torch.randn(num_classes, dim, generator=generator)
    arrays = {}
    for part, size in (("train", num_train), ("test", num_test)):
        labels = torch.arange(size) % num_classes
        points = means[labels] + 1.5 * torch.randn(size, dim, generator=generator)
        arrays[f"{part}_features"] = points.numpy().astype(np.float32)
        arrays[f"{part}_labels"] = labels.numpy()
    for name in _FILES:
        array = arrays[name]
        atomic_write(directory / f"{name}.npy", lambda handle, array=array: np.save(handle, array))
    return directory
