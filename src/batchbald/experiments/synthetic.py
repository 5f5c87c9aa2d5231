"""A tiny synthetic image dataset for tests, smoke runs and examples (no download needed).

Each class c is a bright 6×6 square at its own place on a 28×28 canvas, shifted by up to two
pixels and buried in Gaussian noise: learnable by the MNIST CNN from a few dozen labels, yet
not trivially, so acquisition functions behave differently from random picks.
"""

from __future__ import annotations

import torch

from batchbald.data import DatasetSplits, ImageData
from batchbald.errors import InvalidInputError

__all__ = ["SYNTHETIC_NAME", "synthetic_dataset"]

SYNTHETIC_NAME = "synthetic"
_SIDE, _SQUARE, _SHIFT = 28, 6, 2


def _images(labels_N: torch.Tensor, num_classes: int, noise_std: float, generator) -> torch.Tensor:
    count = labels_N.numel()
    images = torch.randn(count, 1, _SIDE, _SIDE, generator=generator) * noise_std
    # Class c's square sits on a 4×4 grid of anchor points (row-major), inside the margins.
    anchors = torch.linspace(_SHIFT, _SIDE - _SQUARE - _SHIFT, 4).round().long()
    shifts_N_2 = torch.randint(-_SHIFT, _SHIFT + 1, (count, 2), generator=generator)
    for n in range(count):
        c = int(labels_N[n])
        top = int(anchors[(c // 4) % 4] + shifts_N_2[n, 0])
        left = int(anchors[c % 4] + shifts_N_2[n, 1])
        images[n, 0, top : top + _SQUARE, left : left + _SQUARE] += 2.0
    return images


def synthetic_dataset(
    *,
    num_train: int = 1200,
    num_test: int = 400,
    num_classes: int = 10,
    noise_std: float = 1.0,
    generator: torch.Generator | None,
) -> DatasetSplits:
    """Balanced synthetic train and test splits of float32 ``[N, 1, 28, 28]`` images.

    Args:
        num_train: training points (labels cycle through the classes).
        num_test: test points (likewise).
        num_classes: C, between 2 and 16.
        noise_std: std of the Gaussian background noise.
        generator: draws noise and shifts.

    >>> generator = torch.Generator().manual_seed(0)
    >>> splits = synthetic_dataset(num_train=20, num_test=10, generator=generator)
    >>> tuple(splits.train.inputs.shape), splits.train.labels[:3].tolist()
    ((20, 1, 28, 28), [0, 1, 2])
    """
    if not 2 <= num_classes <= 16:
        raise InvalidInputError(f"num_classes must lie in [2, 16]; got {num_classes}")
    splits = []
    for size in (num_train, num_test):
        labels = torch.arange(size) % num_classes
        inputs = _images(labels, num_classes, noise_std, generator)
        names = tuple(str(c) for c in range(num_classes))
        splits.append(ImageData(inputs, labels, num_classes, names))
    return DatasetSplits(train=splits[0], test=splits[1], name=SYNTHETIC_NAME)
