"""Pool sources: a folder of images, a CSV manifest, or numpy arrays, each item with a stable id.

An id names an item by its source (relative path, manifest path, ``row-00000042``), never by a
position that shifts when the pool grows. :meth:`PoolSource.read_bytes` refuses paths outside
the source; :func:`open_source` parses ``folder:PATH``, ``csv:PATH``, ``npz:PATH`` or a path.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

import numpy as np

from batchbald.data._rows import array_labels, array_row
from batchbald.data.array_files import load_npz
from batchbald.data.folder_walk import walk_images
from batchbald.errors import DataError, InvalidInputError

__all__ = [
    "IMAGE_SUFFIXES",
    "ArraySource",
    "FolderSource",
    "ManifestSource",
    "PoolItem",
    "PoolSource",
    "UnreadableItemError",
    "open_source",
]

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
_MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tif": "image/tiff"}


class UnreadableItemError(DataError):
    """An item's file vanished or cannot be decoded (the message names the item and why)."""


@dataclass(frozen=True)
class PoolItem:
    """One item of a pool.

    Attributes:
        item_id: the stable id (relative POSIX path, manifest path, or ``row-NNNNNNNN``).
        label: the class name the source gives it (class sub-folder, manifest column, label
            array), else None.
        fingerprint: changes when the item's content may have changed (size and mtime).
    """

    item_id: str
    label: str | None
    fingerprint: str


class PoolSource(Protocol):
    """What campaigns and runs need from a source of images."""

    spec: str

    def scan(self) -> list[PoolItem]:
        """Every item, sorted by id."""
        ...

    def read_bytes(self, item_id: str) -> tuple[bytes, str]:
        """The item's encoded image and its media type."""
        ...


def _media_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return _MEDIA_TYPES.get(suffix, f"image/{suffix.lstrip('.') or 'octet-stream'}")


def safe_relative(item_id: str) -> PurePosixPath:
    """``item_id`` as a relative path with no ``..``, no root and no backslash.

    >>> str(safe_relative("cats/a.png"))
    'cats/a.png'
    """
    path = PurePosixPath(item_id)
    if (
        not item_id
        or "\\" in item_id
        or "\x00" in item_id
        or path.is_absolute()
        or any(part in ("..", "") for part in item_id.split("/"))
    ):
        raise InvalidInputError(f"item_id must be a relative path inside the pool; got {item_id!r}")
    return path


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _read_file(root: Path, item_id: str) -> tuple[bytes, str]:
    path = root / safe_relative(item_id)
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise InvalidInputError(f"item_id must name a file inside the pool; got {item_id!r}")
    try:
        return path.read_bytes(), _media_type(item_id)
    except OSError as error:
        raise UnreadableItemError(
            f"item {item_id!r}: cannot read {path}: {error.strerror}"
        ) from None


class FolderSource:
    """Every image file under ``root`` (nested or flat); hidden files and folders are skipped.

    An item directly under a sub-folder named like a class (``root/cat/x.png`` with class
    "cat") is already labelled with that class; ``classes=None`` takes any top folder as the label.
    """

    def __init__(
        self, root: str | os.PathLike[str], classes: tuple[str, ...] | None = None
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise DataError(f"images must be an existing folder; got {str(root)!r}")
        self.classes, self.spec = classes, f"folder:{self.root}"

    def _label(self, folder: PurePosixPath) -> str | None:
        """The label of the items under ``folder`` (relative to the root; ``.`` at the top)."""
        if not folder.parts:
            return None
        top = folder.parts[0]
        return top if self.classes is None or top in self.classes else None

    def scan(self) -> list[PoolItem]:
        """Every image file, sorted by relative path (see :func:`.folder_walk.walk_images`)."""
        labels: dict[str, str | None] = {}
        items = []
        for relative, folder, fingerprint in walk_images(self.root, IMAGE_SUFFIXES):
            if folder not in labels:
                labels[folder] = self._label(PurePosixPath(folder)) if folder else None
            items.append(PoolItem(relative, labels[folder], fingerprint))
        return sorted(items, key=lambda item: item.item_id)

    def read_bytes(self, item_id: str) -> tuple[bytes, str]:
        """The file's bytes (``item_id`` must stay inside ``root``)."""
        return _read_file(self.root, item_id)


class ManifestSource:
    """Rows ``path[,label]`` of a CSV file (an optional header ``path,label``).

    Paths are relative to the CSV's folder; the id is the path as written.
    """

    def __init__(self, manifest: str | os.PathLike[str]) -> None:
        self.manifest = Path(manifest).resolve()
        if not self.manifest.is_file():
            raise DataError(f"manifest must be an existing CSV file; got {str(manifest)!r}")
        self.root, self.spec = self.manifest.parent, f"csv:{self.manifest}"

    def _rows(self) -> list[tuple[str, str | None]]:
        with open(self.manifest, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
        if rows and [cell.strip().lower() for cell in rows[0][:2]] in (["path"], ["path", "label"]):
            rows = rows[1:]
        parsed, seen = [], set()
        for number, row in enumerate(rows, start=1):
            if len(row) > 2:
                raise DataError(f"{self.manifest}: row {number} must be path[,label]; got {row}")
            item_id = str(safe_relative(row[0].strip()))
            if item_id in seen:
                raise DataError(f"{self.manifest}: row {number} repeats path {item_id!r}")
            seen.add(item_id)
            label = row[1].strip() if len(row) == 2 and row[1].strip() else None
            parsed.append((item_id, label))
        return parsed

    def scan(self) -> list[PoolItem]:
        """The manifest's rows whose file exists, sorted by id."""
        items = []
        for item_id, label in self._rows():
            try:
                fingerprint = _fingerprint(self.root / item_id)
            except OSError:
                continue  # listed but missing: not in the pool (reported by the campaign)
            items.append(PoolItem(item_id, label, fingerprint))
        return sorted(items, key=lambda item: item.item_id)

    def read_bytes(self, item_id: str) -> tuple[bytes, str]:
        """The listed file's bytes."""
        return _read_file(self.root, item_id)


class ArraySource:
    """Images from arrays: uint8 ``images [N, H, W]`` (or ``[N, H, W, C]``).

    Optional ``labels [N]`` are class indices into ``class_names`` or strings (-1 or "" mean
    unlabelled).
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        class_names: tuple[str, ...] | None = None,
        spec: str = "arrays",
    ) -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4) or not len(images):
            raise InvalidInputError(
                "images must be a non-empty uint8 array [N, H, W] or [N, H, W, C]; "
                f"got {images.dtype} {images.shape}"
            )
        self.images, self.spec = images, spec
        self.labels = array_labels(labels, len(images), class_names)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ArraySource:
        """Arrays ``images`` (required), ``labels`` and ``class_names`` of an ``.npz`` file."""
        resolved = Path(path).resolve()
        arrays = load_npz(resolved, "npz source", ("images",))
        names = tuple(map(str, arrays["class_names"])) if "class_names" in arrays else None
        try:
            return cls(arrays["images"], arrays.get("labels"), names, spec=f"npz:{resolved}")
        except InvalidInputError as error:
            raise DataError(f"npz source {str(path)!r}: {error}") from None

    def scan(self) -> list[PoolItem]:
        """One item per row, ``row-00000000`` onwards."""
        return [
            PoolItem(f"row-{row:08d}", self.labels[row], "array") for row in range(len(self.images))
        ]

    def row(self, item_id: str) -> int:
        """The array row of ``item_id``."""
        return array_row(item_id, len(self.images))

    def read_bytes(self, item_id: str) -> tuple[bytes, str]:
        """The row encoded as PNG."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.images[self.row(item_id)]).save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"


def open_source(spec: str, classes: tuple[str, ...] | None = None) -> PoolSource:
    """The source a spec names.

    A spec is ``folder:PATH``, ``csv:PATH``, ``npz:PATH``, ``features:PATH`` (embeddings,
    :mod:`batchbald.data.pool_features`) or a bare path (a folder, a ``.csv``, an ``.npz`` of
    images or an ``.npy`` of features).

    Raises:
        DataError: the path does not exist or is of an unknown kind.
    """
    kind, _, rest = spec.partition(":")
    if kind not in ("folder", "csv", "npz", "features") or not rest:
        kind, rest = _guess_kind(spec), spec
    if kind == "folder":
        return FolderSource(rest, classes)
    if kind == "csv":
        return ManifestSource(rest)
    if kind == "features":
        from batchbald.data.pool_features import FeaturesSource

        return FeaturesSource(rest)
    return ArraySource.from_file(rest)


def _guess_kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if Path(path).is_dir():
        return "folder"
    if suffix in (".csv", ".npz", ".npy") and Path(path).is_file():
        return "features" if suffix == ".npy" else suffix.lstrip(".")
    raise DataError(
        "source must be folder:PATH, csv:PATH, npz:PATH, features:PATH or an existing folder, "
        f".csv, .npz or .npy file; got {path!r}"
    )
