"""Out-of-distribution contamination: another dataset's images mixed into the pool.

What the oracle answers for an OOD image is a choice (``ood_label``):

- ``NO_CLASS`` (-1, the default; the loop's ``CANNOT_LABEL`` answer): the annotator says "this
  is none of the classes". The acquired point leaves the pool and costs budget, but is *not*
  trained on (:meth:`ImageData.oracle_view` drops it). This is the realistic case the report
  studies: acquisitions wasted on junk.
- a class index k: every OOD image is labelled k (e.g. a dedicated "other" class, or a
  systematic mislabelling);
- ``"random"``: a uniformly random class, fixed per index (an annotator forced to choose).

OOD rows get ``labels`` equal to that answer as well (there is no truth in this label space),
``is_ood`` True and ``source_index`` = their row in the OOD dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch

from batchbald.data._checks import check_generator, check_int, check_real
from batchbald.data.dataset import NO_CLASS, ImageData
from batchbald.errors import InvalidInputError

__all__ = ["concatenate", "ood_contamination"]


def ood_contamination(
    data: ImageData,
    ood: ImageData,
    *,
    fraction: float | None = None,
    count: int | None = None,
    ood_label: int | Literal["random"] = NO_CLASS,
    generator: torch.Generator | None,
) -> ImageData:
    """Append randomly chosen rows of ``ood`` to ``data``, after its rows.

    Args:
        data: the in-distribution data (N rows).
        ood: images of another dataset, same input shape, normalised *with data's statistics*
            (``load_dataset(name, mean=..., std=...)``).
        fraction: share of the *returned* data that is OOD, in [0, 1): M = round(f·N/(1-f)).
        count: M directly. Give exactly one of ``fraction`` and ``count``; M ≤ len(ood).
        ood_label: the oracle's answer for OOD rows (see the module docstring).
        generator: picks the OOD rows (then the random answers, if any).

    Returns:
        N + M rows; the OOD rows come last, in random order (so existing indices, e.g. the
        paper's initial set, stay valid).

    >>> data = ImageData(torch.zeros(3, 1, 1, 1), torch.tensor([0, 1, 0]), 2)
    >>> other = ImageData(torch.ones(5, 1, 1, 1), torch.tensor([7, 7, 7, 7, 7]), 10)
    >>> mixed = ood_contamination(data, other, count=2, generator=torch.Generator().manual_seed(0))
    >>> mixed.labels.tolist(), mixed.is_ood.tolist()
    ([0, 1, 0, -1, -1], [False, False, False, True, True])
    """
    generator = check_generator(generator)
    if tuple(ood.inputs.shape[1:]) != tuple(data.inputs.shape[1:]):
        raise InvalidInputError(
            f"ood inputs must have the same shape per row as data, {tuple(data.inputs.shape[1:])}; "
            f"got {tuple(ood.inputs.shape[1:])}"
        )
    num_ood = _num_ood(fraction, count, len(data), len(ood))
    rows = torch.randperm(len(ood), generator=generator)[:num_ood]
    answers = _answers(ood_label, num_ood, data.num_classes, generator)
    return concatenate([data, _contamination(data, ood.subset(rows), answers)])


def _contamination(data: ImageData, picked: ImageData, answers: torch.Tensor) -> ImageData:
    """The picked OOD rows in ``data``'s label space, answered ``answers``."""
    return ImageData(
        picked.inputs.to(data.inputs),
        answers,
        data.num_classes,
        data.class_names,
        source_index=picked.source_index,
        is_ood=torch.ones(len(picked), dtype=torch.bool),
        oracle_labels=answers,
        noise_std=picked.noise_std,
    )


def _num_ood(fraction: float | None, count: int | None, size: int, available: int) -> int:
    if (fraction is None) == (count is None):
        raise InvalidInputError(
            f"give exactly one of fraction and count; got fraction={fraction!r}, count={count!r}"
        )
    if fraction is not None:
        fraction = check_real(fraction, "fraction", high=1.0, high_open=True)
        count = round(fraction * size / (1.0 - fraction))
    num_ood = check_int(count, "count")
    if num_ood > available:
        raise InvalidInputError(
            f"the contamination needs {num_ood} OOD rows but ood has only {available}; "
            "lower fraction/count or use a larger OOD split"
        )
    return num_ood


def _answers(
    ood_label: int | str, num_ood: int, num_classes: int, generator: torch.Generator | None
) -> torch.Tensor:
    if ood_label == "random":
        return torch.randint(0, num_classes, (num_ood,), generator=generator)
    if isinstance(ood_label, bool) or not isinstance(ood_label, int):
        raise InvalidInputError(
            f"ood_label must be CANNOT_LABEL (-1), a class in [0, {num_classes}) or 'random'; "
            f"got {ood_label!r}"
        )
    if not NO_CLASS <= ood_label < num_classes:
        raise InvalidInputError(
            f"ood_label must be CANNOT_LABEL (-1), a class in [0, {num_classes}) or 'random'; "
            f"got {ood_label}"
        )
    return torch.full((num_ood,), ood_label, dtype=torch.long)


def concatenate(parts: Sequence[ImageData]) -> ImageData:
    """Rows of ``parts`` one after the other, metadata included (same C and input shape)."""
    if not parts:
        raise InvalidInputError("concatenate needs at least one ImageData; got none")
    first = parts[0]
    for part in parts[1:]:
        if part.num_classes != first.num_classes or part.inputs.shape[1:] != first.inputs.shape[1:]:
            raise InvalidInputError(
                "concatenate needs parts with equal num_classes and input shape; got "
                f"{first.num_classes}/{tuple(first.inputs.shape[1:])} and "
                f"{part.num_classes}/{tuple(part.inputs.shape[1:])}"
            )
    return ImageData(
        torch.cat([p.inputs for p in parts]),
        torch.cat([p.labels for p in parts]),
        first.num_classes,
        first.class_names,
        source_index=torch.cat([p.source_index for p in parts]),
        is_ood=torch.cat([p.is_ood for p in parts]),
        oracle_labels=torch.cat([p.oracle_labels for p in parts]),
        noise_std=torch.cat([p.noise_std for p in parts]),
    )
