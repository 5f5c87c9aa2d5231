"""Oracles: whoever labels the points the active-learning loop acquires.

An oracle is any callable that takes int64 dataset indices ``[b]`` and returns int64 labels
``[b]``. The loop asks it once per acquired batch (and once for the initial labelled set), so a
human in the loop is just another oracle (:class:`CallbackOracle`); nothing in the loop changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from batchbald.data.dataset import NO_CLASS
from batchbald.data.label_noise import noisy_labels
from batchbald.errors import InvalidInputError

__all__ = [
    "CANNOT_LABEL",
    "CallbackOracle",
    "DatasetOracle",
    "NoisyOracle",
    "Oracle",
    "check_labels",
]

#: The answer of an oracle that cannot label a point (e.g. an out-of-distribution image): the
#: point leaves the pool when acquired but never enters the training set. It is the data
#: layer's :data:`~batchbald.data.NO_CLASS`, so the simulated oracle (``ImageData.oracle_labels``,
#: ``ood_contamination``) answers it for points with no class.
CANNOT_LABEL: int = NO_CLASS


@runtime_checkable
class Oracle(Protocol):
    """Answers label queries: ``oracle(dataset_indices_b) -> labels_b`` (both int64 ``[b]``).

    An answer is a class in ``[0, C)`` or ``CANNOT_LABEL`` (-1).
    """

    def __call__(self, dataset_indices_b: torch.Tensor) -> torch.Tensor:
        """The labels of ``dataset_indices_b`` (int64 ``[b]``), int64 ``[b]``."""
        ...


def _as_indices(dataset_indices_b: Any, size: int | None = None) -> torch.Tensor:
    indices = torch.as_tensor(dataset_indices_b)
    if indices.dim() != 1 or indices.is_floating_point() or indices.dtype == torch.bool:
        raise InvalidInputError(
            "dataset_indices_b must be a 1-D integer tensor of dataset indices; got "
            f"dtype {indices.dtype} and shape {tuple(indices.shape)}"
        )
    indices = indices.long()
    if size is not None and indices.numel() and (indices.min() < 0 or indices.max() >= size):
        raise InvalidInputError(
            f"dataset_indices_b must lie in [0, {size}); got values from {int(indices.min())} "
            f"to {int(indices.max())}"
        )
    return indices


def check_labels(labels_b: Any, num_points: int, num_classes: int) -> torch.Tensor:
    """Validate an oracle's answer: int64 ``[num_points]`` in ``[0, num_classes)`` or CANNOT_LABEL.

    ``CANNOT_LABEL`` (-1) means the oracle cannot label the point (e.g. an out-of-distribution
    image): the point leaves the pool but never enters the training set.
    """
    labels = torch.as_tensor(labels_b)
    if labels.shape != (num_points,) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise InvalidInputError(
            f"the oracle must return {num_points} integer labels (shape [{num_points}]); got "
            f"dtype {labels.dtype} and shape {tuple(labels.shape)}"
        )
    labels = labels.long()
    if labels.numel() and (labels.min() < CANNOT_LABEL or labels.max() >= num_classes):
        raise InvalidInputError(
            f"the oracle's labels must lie in [0, {num_classes}) or be CANNOT_LABEL "
            f"({CANNOT_LABEL}); got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    return labels


class DatasetOracle:
    """The dataset's own labels (the simulated oracle of the papers).

    >>> oracle = DatasetOracle(torch.tensor([3, 1, 4, 1, 5]))
    >>> oracle(torch.tensor([4, 0])).tolist()
    [5, 3]
    """

    def __init__(self, labels_N: torch.Tensor) -> None:
        labels = torch.as_tensor(labels_N)
        if labels.dim() != 1 or labels.is_floating_point():
            raise InvalidInputError(
                f"labels_N must be a 1-D integer tensor; got dtype {labels.dtype} and "
                f"shape {tuple(labels.shape)}"
            )
        self.labels_N = labels.long()

    def __call__(self, dataset_indices_b: torch.Tensor) -> torch.Tensor:
        """The stored labels of ``dataset_indices_b``."""
        indices = _as_indices(dataset_indices_b, self.labels_N.numel())
        return self.labels_N[indices].clone()


class NoisyOracle(DatasetOracle):
    """Dataset labels where each index answers a wrong class with probability ``rate``.

    A thin oracle over :func:`batchbald.data.noisy_labels` (symmetric noise: a wrong answer is
    uniform over the other C - 1 classes). Experiments usually put the noise into the data
    instead (``ImageData.oracle_labels``) and answer with ``DatasetOracle(data.oracle_labels)``.

    The flipped labels are drawn once at construction, so asking twice about the same index
    gives the same (possibly wrong) answer, whatever the order of the queries.

    Args:
        labels_N: the true labels, int64 ``[N]``.
        num_classes: C.
        rate: the fraction of flipped labels, in [0, 1].
        generator: draws the flips (a dedicated generator keeps runs reproducible).
    """

    def __init__(
        self,
        labels_N: torch.Tensor,
        *,
        num_classes: int,
        rate: float,
        generator: torch.Generator,
    ) -> None:
        super().__init__(labels_N)
        self.true_labels_N = self.labels_N
        self.labels_N = noisy_labels(
            self.true_labels_N, num_classes=num_classes, rate=rate, generator=generator
        )
        self.rate = rate


class CallbackOracle:
    """Wraps any function ``fn(list_of_dataset_indices) -> sequence of labels``.

    Use it for a human oracle (a prompt, a web form, a labelling tool): the loop does not know
    the difference. The answer is validated against ``num_classes``; -1 (CANNOT_LABEL) means
    "I cannot label this one".
    """

    def __init__(self, fn: Callable[[list[int]], Sequence[int]], *, num_classes: int) -> None:
        self.fn = fn
        self.num_classes = num_classes

    def __call__(self, dataset_indices_b: torch.Tensor) -> torch.Tensor:
        """Ask ``fn`` about ``dataset_indices_b`` and check its answer."""
        indices = _as_indices(dataset_indices_b)
        answer = self.fn(indices.tolist())
        return check_labels(
            torch.as_tensor(list(answer), dtype=torch.long), len(indices), self.num_classes
        )
