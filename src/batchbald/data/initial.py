"""Initial labelled sets and validation sets, and ``make_split`` which combines them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch

from batchbald.data._checks import check_generator, check_index_vector, check_int
from batchbald.data.split import ActiveLearningData
from batchbald.errors import InvalidInputError

__all__ = [
    "PAPER_MNIST_INITIAL_INDICES",
    "balanced_initial_indices",
    "make_split",
    "random_validation_indices",
]

#: The 20 MNIST training indices (2 per class) every MNIST and Repeated-MNIST trial of the
#: BatchBALD paper started from (docs/protocol.md §1); with Repeated-MNIST, the first copy.
PAPER_MNIST_INITIAL_INDICES: tuple[int, ...] = (
    38043, 40091, 17418, 2094, 39879, 3133, 5011, 40683, 54379, 24287,
    9849, 59305, 39508, 39356, 8758, 52579, 13655, 7636, 21562, 41329,
)  # fmt: skip

InitialSet = Literal["paper_mnist", "balanced", "none"]


def balanced_initial_indices(
    labels: torch.Tensor,
    per_class: int,
    *,
    generator: torch.Generator | None,
    exclude: Sequence[int] | torch.Tensor = (),
    num_classes: int | None = None,
) -> torch.Tensor:
    """``per_class`` random dataset indices of every class (class 0's first).

    Args:
        labels: int64 ``[N]``; negative labels (OOD, NO_CLASS) are never picked.
        per_class: points per class, ≥ 0.
        generator: chooses the points.
        exclude: dataset indices that must not be picked.
        num_classes: C; default ``labels.max() + 1``.

    Raises:
        InvalidInputError: a class has fewer than ``per_class`` candidates (named).

    >>> labels = torch.tensor([0, 1, 0, 1, 0, 1])
    >>> idx = balanced_initial_indices(labels, 2, generator=torch.Generator().manual_seed(0))
    >>> sorted(labels[idx].tolist())
    [0, 0, 1, 1]
    """
    labels = _check_labels(labels)
    per_class = check_int(per_class, "per_class")
    generator = check_generator(generator)
    excluded = torch.zeros(len(labels), dtype=torch.bool)
    excluded[check_index_vector(exclude, "exclude", len(labels))] = True
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.numel() else 0
    num_classes = check_int(num_classes, "num_classes")
    picks = [
        _class_picks(
            torch.nonzero((labels == label) & ~excluded).flatten(), label, per_class, generator
        )
        for label in range(num_classes)
    ]
    return torch.cat(picks) if picks else torch.zeros(0, dtype=torch.long)


def _class_picks(
    candidates: torch.Tensor, label: int, per_class: int, generator: torch.Generator | None
) -> torch.Tensor:
    if candidates.numel() < per_class:
        raise InvalidInputError(
            f"class {label} has {candidates.numel()} candidate points (after exclusions); "
            f"balanced_initial_indices needs per_class = {per_class}"
        )
    return candidates[torch.randperm(candidates.numel(), generator=generator)[:per_class]]


def random_validation_indices(
    candidates: Sequence[int] | torch.Tensor, size: int, *, generator: torch.Generator | None
) -> torch.Tensor:
    """``size`` dataset indices drawn uniformly without replacement from ``candidates``.

    Random, not class-balanced, as in the papers; returned ascending.

    >>> random_validation_indices([5, 6, 7, 8], 4, generator=None).tolist()
    [5, 6, 7, 8]
    """
    pool = check_index_vector(candidates, "candidates")
    size = check_int(size, "size")
    generator = check_generator(generator)
    if size > pool.numel():
        raise InvalidInputError(
            f"size must be at most the number of candidates ({pool.numel()}); got {size}"
        )
    chosen = pool[torch.randperm(pool.numel(), generator=generator)[:size]]
    return torch.sort(chosen).values


def make_split(
    labels: torch.Tensor,
    *,
    initial: InitialSet = "paper_mnist",
    per_class: int = 2,
    validation_size: int = 0,
    generator: torch.Generator | None,
) -> ActiveLearningData:
    """The split an experiment starts from: initial labelled set, validation set, pool.

    Args:
        labels: the dataset's true labels, int64 ``[N]`` (``ImageData.labels``); rows with a
            negative label (OOD) go to neither the initial nor the validation set.
        initial: ``"paper_mnist"`` (:data:`PAPER_MNIST_INITIAL_INDICES`; needs N ≥ 60,000,
            so MNIST or Repeated-MNIST whose first copy is MNIST's training set),
            ``"balanced"`` (``per_class`` random points of each class) or ``"none"``
            (cold start, as for EMNIST).
        per_class: used by ``"balanced"``.
        validation_size: random points drawn from what remains (1,024 MNIST, 3,072
            Repeated-MNIST, 16,384 EMNIST in the paper).
        generator: draws the balanced initial set (if any), then the validation set.

    Returns:
        :class:`ActiveLearningData` with every other point in the pool.
    """
    labels = _check_labels(labels)
    generator = check_generator(generator)
    initial_indices = _initial_indices(labels, initial, per_class, generator)
    remaining = torch.ones(len(labels), dtype=torch.bool)
    remaining[initial_indices] = False
    candidates = torch.nonzero(remaining & (labels >= 0)).flatten()
    validation = random_validation_indices(candidates, validation_size, generator=generator)
    return ActiveLearningData(
        len(labels), labelled_indices=initial_indices, validation_indices=validation
    )


def _initial_indices(
    labels: torch.Tensor, initial: str, per_class: int, generator: torch.Generator | None
) -> torch.Tensor:
    if initial == "paper_mnist":
        initial_indices = torch.tensor(PAPER_MNIST_INITIAL_INDICES)
        if len(labels) <= int(initial_indices.max()):
            raise InvalidInputError(
                "initial='paper_mnist' indexes the 60,000-point MNIST training set (or the first "
                f"copy of Repeated-MNIST); got a dataset of {len(labels)} points. "
                "Use initial='balanced' for other data."
            )
        return initial_indices
    if initial == "balanced":
        return balanced_initial_indices(labels, per_class, generator=generator)
    if initial == "none":
        return torch.zeros(0, dtype=torch.long)
    raise InvalidInputError(
        f"initial must be one of 'paper_mnist', 'balanced', 'none'; got {initial!r}"
    )


def _check_labels(labels: Any) -> torch.Tensor:
    tensor = torch.as_tensor(labels)
    if tensor.dim() != 1 or tensor.is_floating_point() or tensor.dtype == torch.bool:
        raise InvalidInputError(
            f"labels must be a 1-D integer tensor [N]; got dtype {tensor.dtype}, shape "
            f"{tuple(tensor.shape)}"
        )
    return tensor.long().cpu()
