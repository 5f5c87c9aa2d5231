"""In-memory labelled image data: the one container models, training and the loop exchange.

Besides inputs and labels, every :class:`ImageData` carries four per-index metadata vectors
that the dataset transforms (:mod:`batchbald.data.flaws`) maintain and :meth:`ImageData.subset`
carries along. Constructed without them, they take their "clean data" defaults, so code that
only knows ``ImageData(inputs, labels, num_classes)`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from batchbald.errors import InvalidInputError

__all__ = ["NO_CLASS", "ImageData"]

#: The label, and simulated oracle answer, of a point with no class in this label space (e.g. an
#: out-of-distribution image). The loop's "cannot label" answer (``batchbald.loop.CANNOT_LABEL``)
#: is this value: such a point leaves the pool when acquired but never enters the training set.
NO_CLASS = -1


@dataclass(frozen=True, repr=False)
class ImageData:
    """Normalised inputs with integer labels and per-index provenance.

    Attributes:
        inputs: float32 ``[N, *input_shape]`` (``[N, 1, 28, 28]`` for the MNIST family),
            already normalised.
        labels: int64 ``[N]``, the ground truth in ``[0, num_classes)``; ``NO_CLASS`` (-1)
            for points that have no class in this label space (out-of-distribution images).
        num_classes: C.
        class_names: optional names of the C classes (e.g. EMNIST's characters).
        source_index: int64 ``[N]``, the row of the untransformed dataset this row came from
            (for ``is_ood`` rows: the row of the out-of-distribution dataset). Default
            ``arange(N)``.
        is_ood: bool ``[N]``, True for out-of-distribution contamination. Default all False.
        oracle_labels: int64 ``[N]``, what the (simulated) oracle answers when asked to label
            each index: ``labels`` unless a noisy oracle or OOD contamination changed it;
            ``NO_CLASS`` (the loop's ``CANNOT_LABEL``) means "cannot label". Default ``labels``.
        noise_std: float32 ``[N]``, the standard deviation of the Gaussian input noise added to
            each row so far (after normalisation; independent sources add in quadrature).
            Default zeros.

    The metadata arguments may be omitted (None); after construction they are never None.
    Tensors are shared, never modified in place by the library. Note that
    ``dataclasses.replace(data, labels=x)`` keeps the old ``oracle_labels``: pass both.
    """

    inputs: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...] = ()
    source_index: torch.Tensor | None = None
    is_ood: torch.Tensor | None = None
    oracle_labels: torch.Tensor | None = None
    noise_std: torch.Tensor | None = None

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
        size = int(self.labels.shape[0])
        defaults = {
            "source_index": lambda: torch.arange(size),
            "is_ood": lambda: torch.zeros(size, dtype=torch.bool),
            "oracle_labels": lambda: self.labels,
            "noise_std": lambda: torch.zeros(size, dtype=torch.float32),
        }
        dtypes = {
            "source_index": torch.int64,
            "is_ood": torch.bool,
            "oracle_labels": torch.int64,
            "noise_std": torch.float32,
        }
        for name, make_default in defaults.items():
            value = getattr(self, name)
            value = make_default() if value is None else _metadata(value, name, dtypes[name], size)
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        noisy = int((self.oracle_labels != self.labels).sum())
        return (
            f"ImageData(N={len(self)}, input_shape={tuple(self.inputs.shape[1:])}, "
            f"num_classes={self.num_classes}, ood={int(self.is_ood.sum())}, "
            f"wrong_oracle_answers={noisy}, max_noise_std={_max(self.noise_std):.3g})"
        )

    def subset(self, indices: Sequence[int] | torch.Tensor | Any) -> ImageData:
        """The rows at ``indices`` (dataset indices), in that order, metadata included."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return replace(
            self,
            inputs=self.inputs[index],
            labels=self.labels[index],
            source_index=self.source_index[index],
            is_ood=self.is_ood[index],
            oracle_labels=self.oracle_labels[index],
            noise_std=self.noise_std[index],
        )

    def oracle_view(self, indices: Sequence[int] | torch.Tensor | Any) -> ImageData:
        """The training data the oracle's answers give for ``indices``.

        Rows whose oracle answer is ``NO_CLASS`` ("cannot label") are dropped; ``labels`` of the
        result are the oracle's answers (possibly wrong), which is what a model trained on the
        acquired points sees.

        >>> data = ImageData(torch.zeros(3, 1, 2, 2), torch.tensor([0, 1, 1]), 2,
        ...                  oracle_labels=torch.tensor([1, -1, 1]))
        >>> view = data.oracle_view([0, 1, 2])
        >>> view.labels.tolist(), view.source_index.tolist()
        ([1, 1], [0, 2])
        """
        chosen = self.subset(indices)
        keep = chosen.oracle_labels != NO_CLASS
        kept = chosen.subset(torch.nonzero(keep).flatten())
        return replace(kept, labels=kept.oracle_labels)


def _metadata(value: Any, name: str, dtype: torch.dtype, size: int) -> torch.Tensor:
    tensor = torch.as_tensor(value)
    if tensor.shape != (size,):
        raise InvalidInputError(
            f"ImageData.{name} must have shape [N] = [{size}]; got {tuple(tensor.shape)}"
        )
    if dtype != torch.float32 and tensor.is_floating_point():
        raise InvalidInputError(f"ImageData.{name} must be {dtype}; got dtype {tensor.dtype}")
    return tensor.to(dtype)


def _max(tensor: torch.Tensor) -> float:
    return float(tensor.max()) if tensor.numel() else 0.0
