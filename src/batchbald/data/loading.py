"""``load_dataset``: registered IDX dataset -> normalised train/test :class:`ImageData`."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from batchbald.data.array_files import check_labels
from batchbald.data.catalog import IdxDatasetSpec, get_dataset_spec
from batchbald.data.dataset import ImageData
from batchbald.data.download import Opener, file_checksum
from batchbald.data.fetch import locate_files
from batchbald.data.idx import atomic_write, read_idx
from batchbald.data.locations import default_cache_dir, resolve_data_dir
from batchbald.errors import DataError

__all__ = ["DatasetSplits", "load_dataset", "normalise_images"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetSplits:
    """The train and test splits of one dataset (both normalised the same way).

    ``target``: unlabelled inputs held out of the training data to stand for the distribution the
    model will be used on (EPIG's target set; ``data.target_size`` of an experiment), or ``None``.
    """

    train: ImageData
    test: ImageData
    name: str = ""
    target: ImageData | None = None


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    cache: bool | str | os.PathLike[str] = True,
    mean: float | None = None,
    std: float | None = None,
    opener: Opener | None = None,
) -> DatasetSplits:
    """Load a registered IDX dataset, downloading missing files when allowed.

    Args:
        name: a name from :func:`available_datasets` (``mnist``, ``fashion_mnist``,
            ``emnist_balanced``, or one added with :func:`register_idx_dataset`).
        data_dir: the data directory (CLI ``--data-dir``); None: ``$BATCHBALD_DATA_DIR``,
            then the per-user cache directory. See :mod:`batchbald.data.locations`.
        download: fetch missing files from the dataset's mirrors (checksums verified).
        cache: keep decoded uint8 arrays as ``.npy`` files: True in ``$BATCHBALD_CACHE_DIR``
            or ``<user cache>/decoded``, a path in that folder, False nowhere.
        mean: overrides the normalisation mean (e.g. Fashion-MNIST as OOD data for MNIST).
        std: overrides the normalisation standard deviation.
        opener: ``opener(url) -> binary file-like`` used for downloads (tests inject one).

    Returns:
        :class:`DatasetSplits` with float32 inputs ``[N, 1, H, W]`` equal to
        ``(pixel / 255 - mean) / std`` (ToTensor then Normalize) and int64 labels ``[N]``.

    Raises:
        UnknownNameError: ``name`` is not registered.
        DataError: files are missing and cannot be downloaded, or are corrupt.
    """
    spec = get_dataset_spec(name)
    paths = locate_files(spec, resolve_data_dir(data_dir), download=download, opener=opener)
    class_names = spec.class_names or _read_mapping(paths.get("mapping"), spec)
    train, test = (
        _load_split(split, paths, spec, _cache_dir(cache), (mean, std), class_names)
        for split in ("train", "test")
    )
    return DatasetSplits(train=train, test=test, name=name)


def _load_split(
    split: str,
    paths: dict[str, Path],
    spec: IdxDatasetSpec,
    cache_dir: Path | None,
    mean_std: tuple[float | None, float | None],
    class_names: tuple[str, ...],
) -> ImageData:
    """One split, normalised with ``mean_std`` (None: the dataset's own statistics)."""
    mean, std = mean_std
    images = _decoded(paths[f"{split}_images"], spec, cache_dir, is_images=True)
    labels = _decoded(paths[f"{split}_labels"], spec, cache_dir, is_images=False)
    labels = _check_pair(images, labels, paths[f"{split}_images"], paths[f"{split}_labels"], spec)
    inputs = normalise_images(
        images, spec.mean if mean is None else mean, spec.std if std is None else std
    )
    labels_t = torch.from_numpy(labels)
    return ImageData(inputs, labels_t, spec.num_classes, class_names)


def normalise_images(images_N_H_W: np.ndarray, mean: float, std: float) -> torch.Tensor:
    """uint8 ``[N, H, W]`` -> float32 ``[N, 1, H, W]`` equal to ``(x / 255 - mean) / std``.

    >>> normalise_images(np.full((1, 1, 1), 255, np.uint8), 0.5, 0.5).tolist()
    [[[[1.0]]]]
    """
    # [N, H, W] -> [N, 1, H, W]: one grey channel, as ToTensor produces.
    inputs = torch.from_numpy(np.ascontiguousarray(images_N_H_W)).unsqueeze(1).float()
    return inputs.div_(255.0).sub_(mean).div_(std)


def _cache_dir(cache: bool | str | os.PathLike[str]) -> Path | None:
    if cache is False:
        return None
    return default_cache_dir() if cache is True else Path(cache)


def _decoded(
    path: Path, spec: IdxDatasetSpec, cache_dir: Path | None, *, is_images: bool
) -> np.ndarray:
    """The file's array (transposed for ``spec.transpose`` images), via the ``.npy`` cache."""
    transpose = spec.transpose and is_images
    cached = _cache_path(path, spec, cache_dir, transpose) if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return np.load(cached, allow_pickle=False)
        except (OSError, ValueError) as error:
            logger.warning("ignoring unreadable cache file %s: %s", cached, error)
    _verify(path, spec)
    array = read_idx(path)
    if transpose and array.ndim == 3:
        # EMNIST stores each image column-major: swap H and W so characters read upright.
        array = np.ascontiguousarray(array.transpose(0, 2, 1))
    if cached is not None:
        try:
            atomic_write(cached, lambda handle: np.save(handle, array, allow_pickle=False))
        except OSError as error:
            logger.warning("could not cache decoded %s in %s: %s", path.name, cached.parent, error)
    return array


def _cache_path(path: Path, spec: IdxDatasetSpec, cache_dir: Path, transpose: bool) -> Path:
    # The key changes whenever the source file is replaced (path, size or mtime).
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{transpose}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir / spec.name / f"{path.name.removesuffix('.gz')}-{digest}.npy"


def _verify(path: Path, spec: IdxDatasetSpec) -> None:
    checksum = spec.checksums.get(path.name)
    if checksum is None:
        return
    found = file_checksum(path, checksum.algorithm)
    if found != checksum.digest:
        raise DataError(
            f"{path} has the wrong checksum: expected {checksum}, found "
            f"{checksum.algorithm}:{found}. The file is corrupt or a different version; "
            "delete it to download it again."
        )


def _check_pair(
    images: np.ndarray,
    labels: np.ndarray,
    images_path: Path,
    labels_path: Path,
    spec: IdxDatasetSpec,
) -> np.ndarray:
    """Check what an IDX pair holds (shapes, pixel dtype and range, labels); the labels, int64."""
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected images [N, H, W]; found shape {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{labels_path}: expected {len(images)} labels (one per image in {images_path.name}) "
            f"in a 1-D array; found shape {labels.shape}"
        )
    _check_pixels(images, images_path)
    return check_labels(labels, f"{labels_path} (dataset {spec.name!r})", spec.num_classes)


def _check_pixels(images: np.ndarray, path: Path) -> None:
    """Pixels are whole numbers 0..255 (IDX type 0x08): they are divided by 255 when loaded.

    A float IDX file (type 0x0D/0x0E) is refused rather than guessed at: values already in
    [0, 1] would otherwise be divided by 255 again without a word.
    """
    expected = "whole-number pixels 0..255 (IDX type 0x08, unsigned byte, as in MNIST)"
    if images.dtype.kind not in "iu":
        low, high = (f"{images.min():.4g}", f"{images.max():.4g}") if images.size else ("", "")
        raise DataError(
            f"{path}: expected {expected}; found {images.dtype} values in [{low}, {high}]. "
            "Write the images as uint8 (e.g. (x * 255).round().astype(np.uint8))"
        )
    if images.dtype != np.uint8 and images.size and (images.min() < 0 or images.max() > 255):
        raise DataError(
            f"{path}: expected {expected}; found {images.dtype} values in "
            f"[{images.min()}, {images.max()}]"
        )


def _read_mapping(path: Path | None, spec: IdxDatasetSpec) -> tuple[str, ...]:
    """Class names from a ``<label index> <ASCII code>`` mapping file (EMNIST)."""
    if path is None:
        return ()
    try:
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        mapping = {int(index): chr(int(code)) for index, code in rows}
    except (OSError, ValueError) as error:
        raise DataError(
            f"{path}: expected lines '<label index> <ASCII code>'; could not parse it ({error})"
        ) from error
    if sorted(mapping) != list(range(spec.num_classes)):
        raise DataError(
            f"{path}: expected a class name for each label 0..{spec.num_classes - 1}; found "
            f"{len(mapping)} entries"
        )
    return tuple(mapping[index] for index in range(spec.num_classes))
