"""The registry of IDX datasets: file names, checksums, mirrors and normalisation.

Built in: ``mnist``, ``fashion_mnist`` and ``emnist_balanced``. Any dataset shipped as the
four-file IDX layout is added with :func:`register_idx_dataset`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from batchbald.data.download import Checksum
from batchbald.errors import InvalidInputError, UnknownNameError

__all__ = [
    "ArchiveSource",
    "IdxDatasetSpec",
    "available_datasets",
    "get_dataset_spec",
    "register_idx_dataset",
]


@dataclass(frozen=True)
class ArchiveSource:
    """A zip archive that holds a dataset's files (EMNIST ships all splits in one zip).

    Attributes:
        file_name: local name of the downloaded archive (kept next to the data).
        urls: mirrors of the archive.
        checksum: digest of the whole archive, or None.
        member_prefix: folder inside the archive where the dataset's files are.
    """

    file_name: str
    urls: tuple[str, ...]
    checksum: Checksum | None = None
    member_prefix: str = ""


@dataclass(frozen=True)
class IdxDatasetSpec:
    """Everything needed to locate, fetch, check and decode one IDX dataset.

    Attributes:
        name: registry name.
        files: role -> file name, roles ``train_images``, ``train_labels``, ``test_images``,
            ``test_labels`` and optionally ``mapping`` (``<index> <ASCII code>`` per line).
            Names are as shipped (usually ``.gz``); a decompressed copy without ``.gz`` is
            accepted too.
        num_classes: C.
        mean, std: normalisation after ToTensor's ÷255: ``(x/255 - mean) / std``.
        base_urls: mirrors; a file's URL is ``base_url + file name``.
        checksums: file name -> digest of the file as shipped (verified on download, and on
            decode when the file read is that exact file).
        class_names: names of the C classes; read from the mapping file when empty and one
            is given.
        transpose: images are stored transposed (EMNIST): swap height and width on load so
            characters read upright.
        subdirs: per-dataset folders searched inside a data directory (first one is where
            downloads go).
        archive: optional zip holding the files, used when ``base_urls`` fail or are empty.
    """

    name: str
    files: Mapping[str, str]
    num_classes: int
    mean: float
    std: float
    base_urls: tuple[str, ...] = ()
    checksums: Mapping[str, Checksum] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    transpose: bool = False
    subdirs: tuple[str, ...] = ()
    archive: ArchiveSource | None = None

    def urls(self, file_name: str) -> tuple[str, ...]:
        """The download addresses of ``file_name``, one per base URL, in order."""
        return tuple(base.rstrip("/") + "/" + file_name for base in self.base_urls)


_REQUIRED_ROLES = ("train_images", "train_labels", "test_images", "test_labels")
_REGISTRY: dict[str, IdxDatasetSpec] = {}


def register_idx_dataset(
    name: str,
    *,
    files: Mapping[str, str] | None = None,
    checksums: Mapping[str, str | Checksum] | None = None,
    subdirs: Sequence[str] = (),
    replace: bool = False,
    **fields: Any,
) -> IdxDatasetSpec:
    """Register a dataset in the four-file IDX layout so :func:`load_dataset` finds it.

    Args:
        name: registry name (letters, digits, ``_``, ``-``).
        files: role -> file name (see :class:`IdxDatasetSpec`); None means the MNIST names
            ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
            ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``.
        checksums: file name -> ``"sha256:<hex>"``, ``"md5:<hex>"`` or a bare digest.
        subdirs: folders searched inside the data directory; default ``(name,)``.
        replace: allow overwriting an existing registration.
        **fields: the other fields of :class:`IdxDatasetSpec`: ``num_classes`` (≥ 2), ``mean``
            and ``std`` (> 0) are required; ``base_urls``, ``class_names``, ``transpose`` and
            ``archive`` are optional.

    Returns:
        The registered spec.
    """
    files = _checked_files(name, files, replace)
    spec = IdxDatasetSpec(
        name=name,
        files=files,
        checksums={key: Checksum.parse(value) for key, value in (checksums or {}).items()},
        subdirs=tuple(subdirs) or (name,),
        **_checked_fields(fields),
    )
    _REGISTRY[name] = spec
    return spec


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    missing = [key for key in ("num_classes", "mean", "std") if key not in fields]
    if missing:
        raise InvalidInputError(
            f"register_idx_dataset needs num_classes, mean and std; missing {missing}"
        )
    num_classes, std = int(fields["num_classes"]), fields["std"]
    class_names = tuple(fields.get("class_names", ()))
    if num_classes < 2 or not std > 0:
        raise InvalidInputError(
            f"num_classes must be ≥ 2 and std > 0; got num_classes={num_classes}, std={std}"
        )
    if class_names and len(class_names) != num_classes:
        raise InvalidInputError(
            f"class_names must have num_classes = {num_classes} entries; got {len(class_names)}"
        )
    converted = {"num_classes": num_classes, "mean": float(fields["mean"]), "std": float(std)}
    converted |= {"base_urls": tuple(fields.get("base_urls", ())), "class_names": class_names}
    return {**fields, **converted}


def _checked_files(name: str, files: Mapping[str, str] | None, replace: bool) -> dict[str, str]:
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise InvalidInputError(f"dataset name must use letters, digits, '_' or '-'; got {name!r}")
    if name in _REGISTRY and not replace:
        raise InvalidInputError(
            f"dataset {name!r} is already registered; pass replace=True to overwrite it"
        )
    files = dict(files) if files is not None else dict(_MNIST_FILES)
    missing = [role for role in _REQUIRED_ROLES if role not in files]
    unknown = sorted(set(files) - {*_REQUIRED_ROLES, "mapping"})
    if missing or unknown:
        raise InvalidInputError(
            f"files must map the roles {', '.join(_REQUIRED_ROLES)} (and optionally 'mapping') "
            f"to file names; missing {missing}, unknown {unknown}"
        )
    return files


def get_dataset_spec(name: str) -> IdxDatasetSpec:
    """The registered spec for ``name``; :class:`UnknownNameError` lists the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown dataset {name!r}; available: {', '.join(available_datasets())}. "
            "Register IDX datasets with batchbald.data.register_idx_dataset."
        ) from None


def available_datasets() -> list[str]:
    """Registered dataset names, sorted."""
    return sorted(_REGISTRY)


_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# Checksums of the files as shipped, from /work/shared/datasets/README.md (MNIST, EMNIST) and
# the Fashion-MNIST project's published MD5s.
register_idx_dataset(
    "mnist",
    num_classes=10,
    mean=0.1307,
    std=0.3081,
    base_urls=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": (
            "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
        "train-images-idx3-ubyte": "md5:6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "md5:a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "md5:2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "md5:27ae3e4e09519cfbb04c329615203637",
    },
    class_names=tuple("0123456789"),
)

register_idx_dataset(
    "fashion_mnist",
    num_classes=10,
    mean=0.2860,
    std=0.3530,
    base_urls=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
    },
    class_names=tuple(
        "T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot".split("|")
    ),
    subdirs=("fashion_mnist", "fashion-mnist", "FashionMNIST"),
)

# EMNIST images are stored transposed relative to MNIST (column-major per image); transpose=True
# makes them read upright. NIST ships every split in one zip whose gzip/ folder holds the files.
register_idx_dataset(
    "emnist_balanced",
    files={
        "train_images": "emnist-balanced-train-images-idx3-ubyte.gz",
        "train_labels": "emnist-balanced-train-labels-idx1-ubyte.gz",
        "test_images": "emnist-balanced-test-images-idx3-ubyte.gz",
        "test_labels": "emnist-balanced-test-labels-idx1-ubyte.gz",
        "mapping": "emnist-balanced-mapping.txt",
    },
    num_classes=47,
    mean=0.1307,
    std=0.3081,
    checksums={
        "emnist-balanced-train-images-idx3-ubyte.gz": (
            "sha256:74295e75e4e9fa2c102147460ee7eb763653d5132d883a84fb88932bfb8d2db4"
        ),
        "emnist-balanced-train-labels-idx1-ubyte.gz": (
            "sha256:b46d41e5156a0a8aaaa4d18979fdd1588850fa8571018acffd5d93b325a7d6ed"
        ),
        "emnist-balanced-test-images-idx3-ubyte.gz": (
            "sha256:117fc12b015e37ea98bfb2cbba3f77c3782c056cdbd219b87abfc8661d7135db"
        ),
        "emnist-balanced-test-labels-idx1-ubyte.gz": (
            "sha256:a67cac948379b67270b9a4d0a01c8ec661598accf2f2b1964340b7c83cb175cd"
        ),
        "emnist-balanced-mapping.txt": (
            "sha256:956dc507bf69e9f31f4e3e876d22ec66124aa229b5d0bd65ab8956a8044d3ede"
        ),
    },
    transpose=True,
    subdirs=("emnist_balanced", "emnist", "EMNIST"),
    archive=ArchiveSource(
        file_name="emnist-gzip.zip",
        urls=("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",),
        checksum=Checksum.parse("md5:58c8d27c78d21e728a6bc7b3cc06412e"),
        member_prefix="gzip/",
    ),
)
