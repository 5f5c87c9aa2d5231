"""Shared helpers of the campaign tests: fast settings and a tiny pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FAST = {
    "batch_size": 4,
    "k": 4,
    "method": "bald",
    "training": {"epoch_size": 64, "max_epochs": 2, "patience": 1, "channels_last": False},
    "regime": {"fixed_epochs": 2, "min_holdout_labels": 8},
}


def make_pool(folder: Path, size: int = 40, seed: int = 0) -> tuple[Path, np.ndarray]:
    """An ``.npz`` pool of ``size`` 28×28 images of 3 classes (a bright bar whose position is
    the class, plus noise); returns its path and the true labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size)
    images = rng.integers(0, 60, (size, 28, 28)).astype(np.uint8)
    for row, label in enumerate(labels):
        images[row, 9 * label : 9 * label + 9, :] = 220
    path = folder / "pool.npz"
    np.savez(path, images=images)
    return path, labels
