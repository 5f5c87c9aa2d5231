"""A campaign's target inputs: unlabelled samples of what the model will be used on (EPIG).

EPIG (Bickford Smith et al., 2023) values a pool item by what its label tells about the
predictions on *target* inputs. By default the EPIG methods draw their targets from the pool;
a campaign whose pool differs from where the model will be used (a curated or imbalanced pool,
another scanner, another site) can name a second source of unlabelled inputs, ``target``
(``batchbald campaign init --target SPEC``). It is decoded like the pool at every ``propose``
and scored in the same call as the pool, so with the same posterior samples; its items are
never proposed, labelled or trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchbald.campaign.errors import CampaignError
from batchbald.data.sources import PoolSource, open_source
from batchbald.errors import InvalidInputError

__all__ = ["check_target_source", "load_targets"]


def check_target_source(spec: Any, pool: PoolSource, classes: tuple[str, ...]) -> str:
    """The normalised spec of the target source ``spec`` ("" stays ""), checked against the pool.

    Raises:
        DataError: the path does not exist or is of an unknown kind (from ``open_source``).
        InvalidInputError: images for a features pool or the other way round.
    """
    from batchbald.data.pool_features import FeaturesSource

    if not spec:
        return ""
    target = open_source(str(spec), classes)
    if isinstance(target, FeaturesSource) != isinstance(pool, FeaturesSource):
        kinds = {True: "precomputed features", False: "images"}
        raise InvalidInputError(
            f"target must hold {kinds[isinstance(pool, FeaturesSource)]} like the pool "
            f"{pool.spec!r}; got {kinds[isinstance(target, FeaturesSource)]} ({target.spec!r})"
        )
    return target.spec


def load_targets(settings: Any, project: Path) -> Any:
    """:class:`~batchbald.data.ImageData` of ``settings.target`` decoded as the pool, or None.

    Images go through the pool's image format with a disk cache in
    ``project/cache/target_pixels.npz``; unreadable items are left out.

    Raises:
        CampaignError: no target input can be read.
    """
    if not settings.target:
        return None
    from batchbald.data.source_data import pool_data, pool_decoder

    source = open_source(settings.target, settings.classes)
    fmt = settings.image_format()
    decoder = pool_decoder(source, fmt, project / "cache" / "target_pixels.npz")
    decoded = decoder.decode_all(source.scan(), lambda done: None)
    if not decoded.item_ids:
        raise CampaignError(f"target {settings.target!r}: no readable input")
    return pool_data(source, decoded, fmt, settings.classes, {})
