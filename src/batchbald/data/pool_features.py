"""A pool of precomputed feature vectors (embeddings) as a campaign or run source.

``features:PATH`` names either an ``.npy`` file, float32 ``[N, D]`` (memory-mapped
copy-on-write: rows are read on use, the file is never written), or an ``.npz`` file with a
``features`` array and, optionally, ``labels [N]`` (class indices into ``class_names``, or
strings; -1 or "" mean unlabelled) and ``class_names``. Item ``row-00000042`` is row 42, as
for :class:`~batchbald.data.sources.ArraySource`. The inputs are the rows themselves, no
normalisation; the model takes ``[D]`` inputs (``kind = "embeddings_mlp"``, or an ensemble of
``mlp`` members).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from batchbald.data._rows import array_labels, array_row
from batchbald.data.dataset import NO_CLASS, ImageData
from batchbald.data.sources import PoolItem
from batchbald.errors import DataError, InvalidInputError

__all__ = ["FEATURES_PREFIX", "FeaturesSource", "features_data"]

FEATURES_PREFIX = "features:"


def _load(path: Path) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
    if not path.is_file():
        raise DataError(f"embeddings must be an existing .npy or .npz file; got {str(path)!r}")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                names = tuple(map(str, arrays["class_names"])) if "class_names" in arrays else None
                labels = arrays["labels"] if "labels" in arrays else None
                return arrays["features"], labels, names
        return np.load(path, mmap_mode="c", allow_pickle=False), None, None
    except (OSError, ValueError, KeyError) as error:
        raise DataError(
            f"embeddings {str(path)!r}: not an .npy file or an .npz file with a 'features' "
            f"array ({type(error).__name__}: {error})"
        ) from None


class FeaturesSource:
    """Rows of a float32 ``[N, D]`` features array, one item per row (see the module doc).

    Args:
        path: the ``.npy`` or ``.npz`` file.
        classes: unused (the signature of the other sources).
    """

    def __init__(self, path: str | os.PathLike[str], classes: Any = None) -> None:
        self.path = Path(path).expanduser().resolve()
        features, labels, names = _load(self.path)
        if features.dtype != np.float32 or features.ndim != 2 or not len(features):
            raise InvalidInputError(
                "embeddings features must be a non-empty float32 array [N, D]; got "
                f"{features.dtype} {features.shape}"
            )
        self.features, self.spec = features, f"{FEATURES_PREFIX}{self.path}"
        self.labels = array_labels(labels, len(features), names)

    def scan(self) -> list[PoolItem]:
        """One item per row, ``row-00000000`` onwards."""
        return [PoolItem(f"row-{row:08d}", self.labels[row], "features") for row in
                range(len(self.features))]  # fmt: skip

    def row(self, item_id: str) -> int:
        """The row of ``item_id``."""
        return array_row(item_id, len(self.features))

    def read_bytes(self, item_id: str) -> tuple[bytes, str]:
        """A small SVG card naming the row (an embeddings pool has no image to show)."""
        self.row(item_id)  # only rows of this array
        text = f"{item_id} · {self.features.shape[1]}-d embedding"
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="80">'
            '<rect width="320" height="80" fill="#eee"/>'
            f'<text x="16" y="46" font-family="sans-serif" font-size="16">{text}</text></svg>'
        )
        return svg.encode(), "image/svg+xml"


class FeaturesDecoder:
    """The campaign's decoder for a :class:`FeaturesSource`: rows, nothing to decode."""

    def __init__(self, source: FeaturesSource) -> None:
        self.source = source

    def decode_all(
        self, items: Sequence[PoolItem], on_progress: Callable[[float], None] | None = None
    ) -> Any:
        """The rows of ``items`` (a view of the whole array when every row is asked for)."""
        from batchbald.data.pool_images import DecodedPool

        rows = [self.source.row(item.item_id) for item in items]
        whole = rows == list(range(len(self.source.features)))
        features = self.source.features if whole else self.source.features[rows]
        return DecodedPool([item.item_id for item in items], features, {})


def features_data(
    decoded: Any, classes: Sequence[str], labels: dict[str, str] | None = None
) -> ImageData:
    """:class:`ImageData` of a decoded features pool (``source_index`` as for images).

    ``labels`` maps ids to class names (others get ``NO_CLASS``).
    """
    from batchbald.data.pool_images import item_key

    index = {name: number for number, name in enumerate(classes)}
    labels = labels or {}
    values = [index.get(labels.get(item_id, ""), NO_CLASS) for item_id in decoded.item_ids]
    return ImageData(
        torch.from_numpy(np.asarray(decoded.pixels)),
        torch.tensor(values, dtype=torch.long),
        len(classes),
        class_names=tuple(classes),
        source_index=torch.tensor([item_key(i) for i in decoded.item_ids], dtype=torch.long),
    )
