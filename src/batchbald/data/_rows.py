"""Array-backed pools: the row an id names, and the labels an array gives its rows."""

from __future__ import annotations

import numpy as np

from batchbald.data.array_files import check_labels
from batchbald.errors import InvalidInputError

__all__ = ["array_labels", "array_row"]


def array_row(item_id: str, size: int) -> int:
    """The row ``item_id`` (``row-00000042``) names in an array of ``size`` rows.

    >>> array_row("row-00000042", 50)
    42
    """
    digits = item_id.removeprefix("row-")
    if not (item_id.startswith("row-") and digits.isdigit() and int(digits) < size):
        raise InvalidInputError(f"item_id must be row-NNNNNNNN of this array; got {item_id!r}")
    return int(digits)


def array_labels(
    labels: np.ndarray | None, size: int, class_names: tuple[str, ...] | None
) -> list[str | None]:
    """Each row's class name (None: unlabelled, index -1 or an empty string).

    Raises:
        InvalidInputError: not ``[N]``, or class indices that are negative (other than -1),
            not whole numbers, NaN, or beyond the class names.
    """
    if labels is None:
        return [None] * size
    labels = np.asarray(labels)
    if labels.shape != (size,):
        raise InvalidInputError(f"labels must have shape [N] = [{size}]; got {labels.shape}")
    if labels.dtype.kind in "biuf":  # class indices; -1 means unlabelled
        known = len(class_names) if class_names else None
        labels = check_labels(labels, "labels", known, unlabelled=True, error=InvalidInputError)
        names = class_names or tuple(str(i) for i in range(int(labels.max(initial=-1)) + 1))
        return [names[int(value)] if value >= 0 else None for value in labels]
    return [str(value) or None for value in labels]
