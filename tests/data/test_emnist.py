"""The EMNIST Balanced loader on small files the tests write (the real images are unavailable):
transposed storage, the class mapping, the NIST zip, and the built-in checksums."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import string
import zipfile
from pathlib import Path

import numpy as np
import pytest

from batchbald.data import get_dataset_spec, load_dataset, register_idx_dataset, write_idx
from batchbald.data.catalog import _REGISTRY
from batchbald.data.loading import _read_mapping
from batchbald.errors import DataError

from .conftest import SHARED_MNIST, FakeOpener, unique_name

# 0-9, A-Z, then the 11 lowercase letters that are not merged with their capitals.
EMNIST_NAMES = tuple(string.digits + string.ascii_uppercase + "abdefghnqrt")
ZIP_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"


def mapping_text() -> str:
    return "".join(f"{index} {ord(char)}\n" for index, char in enumerate(EMNIST_NAMES))


def upright_images(count: int) -> np.ndarray:
    """Image i has a horizontal bar in row i % 28: not symmetric under transposition."""
    images = np.zeros((count, 28, 28), np.uint8)
    for i in range(count):
        images[i, i % 28, :] = 255
    return images


def emnist_files(folder: Path, num_train: int = 94, num_test: int = 47) -> dict[str, Path]:
    """The five EMNIST Balanced files, images stored transposed as NIST ships them."""
    spec = get_dataset_spec("emnist_balanced")
    arrays = {
        "train_images": upright_images(num_train).transpose(0, 2, 1),
        "train_labels": (np.arange(num_train) % 47).astype(np.uint8),
        "test_images": upright_images(num_test).transpose(0, 2, 1),
        "test_labels": (np.arange(num_test) % 47).astype(np.uint8),
    }
    paths = {role: write_idx(folder / spec.files[role], arrays[role]) for role in arrays}
    paths["mapping"] = folder / spec.files["mapping"]
    paths["mapping"].write_text(mapping_text())
    return paths


def register_unchecked(**changes: object) -> str:
    """The built-in EMNIST spec without its (real-file) checksums, under a fresh name."""
    name = unique_name("emnist")
    spec = dataclasses.replace(
        get_dataset_spec("emnist_balanced"), name=name, checksums={}, **changes
    )
    _REGISTRY[name] = spec
    return name


def test_loads_upright_with_class_names(tmp_path: Path) -> None:
    emnist_files(tmp_path / "emnist")  # the layout of /work/shared/datasets
    splits = load_dataset(register_unchecked(), data_dir=tmp_path, download=False)
    train = splits.train
    assert train.inputs.shape == (94, 1, 28, 28) and train.num_classes == 47
    assert train.class_names == EMNIST_NAMES
    # Row i % 28 of image i is the bright bar once transposed back.
    bright = train.inputs[:, 0].amax(dim=2) > 2.0  # [N, 28]: rows containing ink
    for i in range(94):
        assert bright[i].nonzero().flatten().tolist() == [i % 28]
    assert splits.test.labels.tolist() == list(range(47))


def test_nist_zip_is_downloaded_once_and_extracted(tmp_path: Path) -> None:
    upstream = emnist_files(tmp_path / "upstream")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for path in upstream.values():
            zipped.writestr("gzip/" + path.name, path.read_bytes())
        zipped.writestr("gzip/emnist-letters-mapping.txt", "1 65\n")
    archive_bytes = buffer.getvalue()
    checksums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in upstream.values()}
    spec = get_dataset_spec("emnist_balanced")
    archive = dataclasses.replace(spec.archive, checksum=None)
    name = register_idx_dataset(
        unique_name("emnist"),
        files=spec.files,
        num_classes=47,
        mean=spec.mean,
        std=spec.std,
        checksums=checksums,
        transpose=True,
        subdirs=("emnist_balanced",),
        archive=archive,
    ).name
    opener = FakeOpener({ZIP_URL: archive_bytes})
    data_dir = tmp_path / "data"
    splits = load_dataset(name, data_dir=data_dir, opener=opener)
    assert opener.calls == [ZIP_URL]
    assert splits.train.class_names == EMNIST_NAMES
    folder = data_dir / "emnist_balanced"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*checksums, "emnist-gzip.zip"])
    load_dataset(name, data_dir=data_dir, opener=opener)
    assert opener.calls == [ZIP_URL]


def test_failed_archive_download_is_reported(tmp_path: Path) -> None:
    name = register_unchecked()
    with pytest.raises(DataError) as info:
        load_dataset(name, data_dir=tmp_path, opener=FakeOpener({}))
    message = str(info.value)
    assert "missing 5 file(s): emnist-balanced-train-images-idx3-ubyte.gz" in message
    assert f"could not download emnist-gzip.zip; tried:\n    {ZIP_URL}: HTTP Error 404" in message


def test_builtin_spec_rejects_files_that_are_not_the_real_ones(tmp_path: Path) -> None:
    emnist_files(tmp_path)
    with pytest.raises(
        DataError,
        match=r"emnist-balanced-train-images-idx3-ubyte.gz has the "
        r"wrong checksum: expected sha256:74295e75",
    ):
        load_dataset("emnist_balanced", data_dir=tmp_path, download=False)


def test_bad_mapping_file(tmp_path: Path) -> None:
    paths = emnist_files(tmp_path)
    paths["mapping"].write_text("0 48\n1 49\n")
    with pytest.raises(DataError, match=r"expected a class name for each label 0..46; found 2"):
        load_dataset(register_unchecked(), data_dir=tmp_path, download=False)
    paths["mapping"].write_text("zero 48\n")
    with pytest.raises(DataError, match="expected lines '<label index> <ASCII code>'"):
        load_dataset(register_unchecked(), data_dir=tmp_path, download=False)


SHARED_EMNIST = SHARED_MNIST / "emnist" / "emnist-balanced-mapping.txt"


@pytest.mark.skipif(not SHARED_EMNIST.is_file(), reason="shared EMNIST mapping absent")
def test_real_mapping_file_and_missing_images_in_the_shared_folder() -> None:
    assert _read_mapping(SHARED_EMNIST, get_dataset_spec("emnist_balanced")) == EMNIST_NAMES
    with pytest.raises(DataError) as info:
        load_dataset("emnist_balanced", data_dir=SHARED_MNIST, download=False)
    message = str(info.value)
    assert "missing 4 file(s)" in message and "mapping.txt" not in message.split("\n")[0]
    assert str(SHARED_MNIST / "emnist" / "emnist-balanced-test-labels-idx1-ubyte.gz") in message
