"""In-memory labelled image data: the one container models, training and the loop exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.errors import InvalidInputError

__all__ = ["ImageData"]


@dataclass(frozen=True)
class ImageData:
    """Normalised inputs with integer labels.

    Attributes:
        inputs: float32 ``[N, *input_shape]`` (``[N, 1, 28, 28]`` for the MNIST family),
            already normalised.
        labels: int64 ``[N]`` in ``[0, num_classes)``.
        num_classes: C.
        class_names: optional names of the C classes (e.g. EMNIST's characters).
    """

    inputs: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.inputs.shape[0] != self.labels.shape[0] or self.labels.dim() != 1:
            raise InvalidInputError(
                "ImageData needs inputs [N, ...] and labels [N] of equal N; got "
                f"{tuple(self.inputs.shape)} and {tuple(self.labels.shape)}"
            )
        if self.class_names and len(self.class_names) != self.num_classes:
            raise InvalidInputError(
                f"class_names must have num_classes = {self.num_classes} entries; "
                f"got {len(self.class_names)}"
            )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: Sequence[int] | torch.Tensor | Any) -> ImageData:
        """The rows at ``indices`` (dataset indices), in that order."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return ImageData(self.inputs[index], self.labels[index], self.num_classes, self.class_names)
