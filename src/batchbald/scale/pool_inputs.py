"""A pool to score, from the sources ``batchbald run`` configs and campaigns accept.

:func:`load_pool` turns a source spec into model inputs ``[N, ...]`` and one stable id per row:

* ``folder:PATH``, ``csv:PATH``, ``npz:PATH`` or a bare folder / ``.csv`` / ``.npz`` path: the
  campaign sources (:func:`batchbald.data.sources.open_source`), decoded to ``fmt`` and
  normalised as campaigns do, shard by shard (:class:`DecodedOnDemand`: never the whole pool
  in memory); ids are the sources' ids (relative paths, ``row-NNNNNNNN``);
* ``idx:PATH``: an IDX image file (``train-images-idx3-ubyte``, raw or gzip), normalised with
  ``fmt``'s mean and std as the MNIST loader does; ids ``row-NNNNNNNN``;
* ``embeddings:FOLDER`` (its ``train_features.npy``, as ``dataset = "embeddings:FOLDER"``) or
  ``npy:PATH``: float32 ``[N, D]`` feature vectors, memory-mapped (never copied whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from batchbald.data.loading import normalise_images
from batchbald.data.pool_images import ImageFormat, decode_item, normalise_pixels
from batchbald.data.sources import PoolSource, UnreadableItemError, open_source
from batchbald.errors import DataError, InvalidInputError

__all__ = ["SOURCE_FORMS", "DecodedOnDemand", "ScoringPool", "load_pool"]

SOURCE_FORMS = (
    "folder:PATH, csv:PATH, npz:PATH (or a bare folder/.csv/.npz path), idx:PATH, "
    "embeddings:FOLDER, npy:PATH"
)


@dataclass(frozen=True)
class ScoringPool:
    """Model inputs of a pool and the id of each row.

    Attributes:
        inputs: float32 ``[N, ...]`` on the CPU (possibly memory-mapped), or for image
            sources a :class:`DecodedOnDemand` that decodes the rows a slice asks for.
        item_ids: N stable ids, row order.
        spec: the source spec it came from.
    """

    inputs: torch.Tensor | DecodedOnDemand
    item_ids: list[str]
    spec: str


def _row_ids(count: int) -> list[str]:
    return [f"row-{row:08d}" for row in range(count)]


def _features(path: Path, spec: str) -> ScoringPool:
    if not path.is_file():
        raise DataError(f"SOURCE {spec!r}: features file {str(path)!r} does not exist")
    try:
        features = np.load(path, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"SOURCE {spec!r}: cannot read {str(path)!r}: {error}") from None
    if features.dtype != np.float32 or features.ndim != 2 or not len(features):
        raise InvalidInputError(
            f"SOURCE {spec!r} must hold float32 features [N, D] with N ≥ 1; got "
            f"{features.dtype} {features.shape}"
        )
    return ScoringPool(torch.from_numpy(features), _row_ids(len(features)), spec)


def _idx_images(path: str, spec: str, fmt: ImageFormat) -> ScoringPool:
    from batchbald.data.idx import read_idx

    images = read_idx(path)
    if images.dtype != np.uint8 or images.ndim != 3 or not len(images):
        raise InvalidInputError(
            f"SOURCE {spec!r} must be an IDX file of uint8 images [N, H, W]; got "
            f"{images.dtype} {images.shape}"
        )
    return ScoringPool(normalise_images(images, fmt.mean, fmt.std), _row_ids(len(images)), spec)


class DecodedOnDemand:
    """Model inputs ``[N, C, H, W]`` of an image source, decoded when a slice is read.

    ``inputs[a:b]`` decodes rows ``a..b`` with Pillow and normalises them as campaigns do
    (:func:`~batchbald.data.pool_images.normalise_pixels`); nothing else is kept. Scoring holds
    one shard's pixels at a time, so a folder larger than memory can be scored, and on Ray each
    task decodes its own shard (the files must be readable where the task runs).

    Args:
        source: the pool source; ``item_ids``: the rows' ids; ``fmt``: the image format.
    """

    def __init__(self, source: PoolSource, item_ids: list[str], fmt: ImageFormat) -> None:
        self.source, self.item_ids, self.fmt = source, item_ids, fmt
        self.shape = torch.Size((len(item_ids), fmt.channels, fmt.size, fmt.size))

    def __len__(self) -> int:
        return len(self.item_ids)

    def __getitem__(self, rows: slice) -> torch.Tensor:
        if not isinstance(rows, slice):
            raise TypeError(f"rows must be a slice; got {type(rows).__name__}")
        pixels = []
        for item_id in self.item_ids[rows]:
            try:
                pixels.append(decode_item(self.source, item_id, self.fmt))
            except UnreadableItemError as error:
                raise DataError(
                    f"SOURCE {self.source.spec!r}: {error}; fix the file and run the same "
                    "command again (the shards already written are kept), or remove it and "
                    "score into a new --out"
                ) from None
        return normalise_pixels(np.stack(pixels), self.fmt)


def _images(spec: str, fmt: ImageFormat) -> ScoringPool:
    source = open_source(spec)
    items = source.scan()
    if not items:
        raise DataError(f"SOURCE {spec!r} holds no images")
    inputs = DecodedOnDemand(source, [item.item_id for item in items], fmt)
    return ScoringPool(inputs, inputs.item_ids, spec)


def load_pool(spec: str, fmt: ImageFormat | None = None) -> ScoringPool:
    """The pool the source ``spec`` names (see the module doc for the forms).

    Args:
        spec: the source spec.
        fmt: the image format of image sources (default: 28×28 grayscale, MNIST's mean/std).

    Raises:
        DataError: the source is missing, empty or has unreadable items.
        InvalidInputError: the file holds the wrong kind of array.
    """
    fmt = fmt or ImageFormat()
    kind, _, rest = spec.partition(":")
    if kind == "idx" and rest:
        return _idx_images(rest, spec, fmt)
    if kind == "embeddings" and rest:
        return _features(Path(rest) / "train_features.npy", spec)
    if kind == "npy" and rest:
        return _features(Path(rest), spec)
    try:
        return _images(spec, fmt)
    except DataError as error:
        if str(error).startswith("SOURCE"):
            raise
        raise DataError(f"SOURCE {spec!r}: {error} (forms: {SOURCE_FORMS})") from None
