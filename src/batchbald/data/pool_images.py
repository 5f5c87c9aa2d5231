"""Decoding a pool source's items into model inputs, with a bounded memory and an on-disk cache.

Images are decoded lazily: :class:`PoolDecoder` keeps at most ``memory_items`` decoded items in
memory (least recently used first out) and, for whole-pool scoring, an uncompressed ``.npz``
cache of uint8 pixels keyed by item id and fingerprint, so a second pass decodes only new or
changed files. Pixels become inputs with the same arithmetic as the IDX datasets
(:func:`batchbald.data.loading.normalise_images`), so the same pixels give bitwise the same
inputs whichever way they arrive.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from batchbald.atomic import atomic_write
from batchbald.data.dataset import NO_CLASS, ImageData
from batchbald.data.loading import normalise_images
from batchbald.data.sources import ArraySource, PoolItem, PoolSource, UnreadableItemError
from batchbald.errors import InvalidInputError

__all__ = ["DecodedPool", "ImageFormat", "PoolDecoder", "item_key", "pool_image_data"]


@dataclass(frozen=True)
class ImageFormat:
    """What a model takes: ``channels`` × ``size`` × ``size`` pixels.

    ``channels`` is 1 (grayscale) or 3 (RGB); pixels are normalised as
    ``(x / 255 - mean) / std``. Defaults: MNIST's.
    """

    size: int = 28
    channels: int = 1
    mean: float = 0.1307
    std: float = 0.3081

    def __post_init__(self) -> None:
        if self.channels not in (1, 3) or not 4 <= self.size <= 1024 or not self.std > 0:
            raise InvalidInputError(
                "image format needs channels 1 or 3, 4 ≤ size ≤ 1024 and std > 0; "
                f"got channels={self.channels}, size={self.size}, std={self.std}"
            )


def item_key(item_id: str) -> int:
    """A stable 62-bit integer for ``item_id`` (``ImageData.source_index`` of pool rows)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "little") >> 2


def _decode_bytes(payload: bytes, fmt: ImageFormat) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(payload)) as image:
        image = image.convert("L" if fmt.channels == 1 else "RGB")
        if image.size != (fmt.size, fmt.size):
            image = image.resize((fmt.size, fmt.size), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    return pixels if fmt.channels == 1 else pixels.transpose(2, 0, 1)


def decode_item(source: PoolSource, item_id: str, fmt: ImageFormat) -> np.ndarray:
    """uint8 ``[H, W]`` (grayscale) or ``[3, H, W]`` pixels of one item.

    Raises:
        UnreadableItemError: the file vanished or is not an image Pillow can read.
    """
    if isinstance(source, ArraySource) and source.images.ndim == 3 and fmt.channels == 1:
        pixels = source.images[source.row(item_id)]
        if pixels.shape == (fmt.size, fmt.size):
            return pixels
    payload, _ = source.read_bytes(item_id)
    try:
        return _decode_bytes(payload, fmt)
    except Exception as error:  # Pillow raises many types for a bad file
        raise UnreadableItemError(
            f"item {item_id!r}: not an image Pillow can read ({type(error).__name__})"
        ) from None


@dataclass(frozen=True)
class DecodedPool:
    """Decoded pixels of the items that could be read, and why the others could not."""

    item_ids: list[str]
    pixels: np.ndarray
    failed: dict[str, str]


class PoolDecoder:
    """Decodes a source's items with a bounded in-memory LRU and an optional disk cache.

    Args:
        source: the pool source.
        fmt: the target :class:`ImageFormat`.
        cache_file: an ``.npz`` path for decoded pixels (None: no disk cache).
        memory_items: decoded items kept in memory for :meth:`decode`.
    """

    def __init__(
        self,
        source: PoolSource,
        fmt: ImageFormat,
        cache_file: str | os.PathLike[str] | None = None,
        memory_items: int = 512,
    ) -> None:
        self.source, self.fmt, self.memory_items = source, fmt, memory_items
        self.cache_file = Path(cache_file) if cache_file is not None else None
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()

    def decode(self, item_id: str) -> np.ndarray:
        """One item's pixels (from memory when recently decoded)."""
        if item_id in self._memory:
            self._memory.move_to_end(item_id)
            return self._memory[item_id]
        pixels = decode_item(self.source, item_id, self.fmt)
        self._memory[item_id] = pixels
        if len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)
        return pixels

    def _load_cache(self) -> dict[tuple[str, str], np.ndarray]:
        if self.cache_file is None or not self.cache_file.exists():
            return {}
        try:
            with np.load(self.cache_file, allow_pickle=False) as cached:
                ids, prints, pixels = cached["ids"], cached["fingerprints"], cached["pixels"]
                if pixels.shape[1:] != self._shape():
                    return {}
                pairs = zip(ids.tolist(), prints.tolist(), strict=True)
                return {(str(i), str(f)): pixels[row] for row, (i, f) in enumerate(pairs)}
        except (OSError, ValueError, KeyError):
            return {}  # a damaged cache is only a cache: decode again

    def _shape(self) -> tuple[int, ...]:
        size = (self.fmt.size, self.fmt.size)
        return size if self.fmt.channels == 1 else (3, *size)

    def decode_all(
        self, items: Sequence[PoolItem], on_progress: Callable[[float], None] | None = None
    ) -> DecodedPool:
        """Pixels of every readable item (in ``items``' order); unreadable ones in ``failed``."""
        cached = self._load_cache()
        ids, rows, failed, fresh = [], [], {}, 0
        for number, item in enumerate(items):
            pixels = cached.get((item.item_id, item.fingerprint))
            if pixels is None:
                try:
                    pixels = decode_item(self.source, item.item_id, self.fmt)
                except UnreadableItemError as error:
                    failed[item.item_id] = str(error)
                    continue
                fresh += 1
            ids.append(item.item_id)
            rows.append(pixels)
            if on_progress is not None and number % 1000 == 0:
                on_progress(number / max(len(items), 1))
        stack = np.stack(rows) if rows else np.zeros((0, *self._shape()), np.uint8)
        if fresh or len(cached) != len(ids):
            prints = {item.item_id: item.fingerprint for item in items}
            self._save_cache(ids, [prints[i] for i in ids], stack)
        return DecodedPool(ids, stack, failed)

    def _save_cache(self, ids: list[str], prints: list[str], pixels: np.ndarray) -> None:
        if self.cache_file is None:
            return
        atomic_write(self.cache_file, lambda handle: np.savez(
            handle, ids=np.array(ids, dtype=str), fingerprints=np.array(prints, dtype=str),
            pixels=pixels))  # fmt: skip


def normalise_pixels(pixels: np.ndarray, fmt: ImageFormat) -> torch.Tensor:
    """uint8 ``[N, H, W]`` or ``[N, 3, H, W]`` pixels as float32 model inputs ``[N, C, H, W]``.

    ``(x / 255 - mean) / std`` with ``fmt``'s mean and std, as the MNIST loader normalises.
    """
    if fmt.channels == 1:
        return normalise_images(pixels, fmt.mean, fmt.std)
    return torch.from_numpy(pixels.astype(np.float32)).div_(255.0).sub_(fmt.mean).div_(fmt.std)


def pool_image_data(
    decoded: DecodedPool,
    fmt: ImageFormat,
    classes: Sequence[str],
    labels: dict[str, str] | None = None,
) -> ImageData:
    """:class:`ImageData` of decoded items.

    ``labels`` maps ids to class names (others get ``NO_CLASS``); ``source_index`` is
    :func:`item_key` of each id.
    """
    inputs = normalise_pixels(decoded.pixels, fmt)
    index = {name: number for number, name in enumerate(classes)}
    labels = labels or {}
    values = [index.get(labels.get(item_id, ""), NO_CLASS) for item_id in decoded.item_ids]
    return ImageData(
        inputs,
        torch.tensor(values, dtype=torch.long),
        len(classes),
        class_names=tuple(classes),
        source_index=torch.tensor([item_key(i) for i in decoded.item_ids], dtype=torch.long),
    )
