"""Labelled :class:`ImageData` from pool sources, for ``batchbald run`` configs.

``[data] source = "folder:PATH"``, ``test_source = ...``; see docs/campaigns.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from batchbald.data.dataset import ImageData
from batchbald.data.loading import DatasetSplits
from batchbald.data.pool_images import DecodedPool, ImageFormat, PoolDecoder, pool_image_data
from batchbald.data.sources import open_source
from batchbald.errors import DataError

__all__ = ["load_source_splits", "pool_data", "pool_decoder", "source_image_data"]


def source_image_data(
    spec: str, classes: tuple[str, ...] | None = None, fmt: ImageFormat | None = None
) -> ImageData:
    """Every readable item of the source ``spec`` with the labels the source gives.

    Args:
        spec: a source spec (:func:`batchbald.data.sources.open_source`); a features pool
            gives its rows as inputs.
        classes: the class names in index order; None: the sorted labels found.
        fmt: the image format (default: 28×28 grayscale, MNIST normalisation).

    Raises:
        DataError: the source is missing, holds no items, or an item cannot be decoded.
    """
    fmt = fmt or ImageFormat()
    source = open_source(spec)
    items = source.scan()
    if not items:
        raise DataError(f"source {spec!r} holds no images")
    decoded = pool_decoder(source, fmt).decode_all(items)
    if decoded.failed:
        problem = next(iter(decoded.failed.values()))
        raise DataError(f"source {spec!r}: {len(decoded.failed)} unreadable items, e.g. {problem}")
    labels = {item.item_id: item.label for item in items if item.label is not None}
    names = classes or tuple(sorted(set(labels.values())))
    if len(names) < 2:
        raise DataError(f"source {spec!r} must label items with ≥ 2 classes; found {list(names)}")
    return pool_data(source, decoded, fmt, names, labels)


def pool_decoder(source: Any, fmt: ImageFormat, cache_file: Any = None) -> Any:
    """The decoder of ``source``: images become pixels, a features pool gives its rows."""
    from batchbald.data.pool_features import FeaturesDecoder, FeaturesSource

    if isinstance(source, FeaturesSource):
        return FeaturesDecoder(source)
    return PoolDecoder(source, fmt, cache_file)


def pool_data(
    source: Any,
    decoded: DecodedPool,
    fmt: ImageFormat,
    classes: Sequence[str],
    labels: dict[str, str] | None = None,
) -> ImageData:
    """:class:`ImageData` of a decoded pool: normalised pixels, or a features pool's rows."""
    from batchbald.data.pool_features import FeaturesSource, features_data

    if isinstance(source, FeaturesSource):
        return features_data(decoded, classes, labels)
    return pool_image_data(decoded, fmt, classes, labels)


def load_source_splits(spec: str, test_spec: str) -> DatasetSplits:
    """Train data from ``spec``, test data from ``test_spec`` (empty: no test set).

    The test set uses the train set's classes.
    """
    train = source_image_data(spec)
    if not test_spec:
        return DatasetSplits(train=train, test=train.subset([]), name="source")
    test = source_image_data(test_spec, classes=train.class_names)
    return DatasetSplits(train=train, test=test, name="source")
