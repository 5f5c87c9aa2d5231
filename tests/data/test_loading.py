"""load_dataset on tiny IDX datasets the tests write: layouts, precedence, download, cache."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import batchbald.data.loading as loading
from batchbald.data import (
    available_datasets,
    get_dataset_spec,
    load_dataset,
    register_idx_dataset,
    resolve_data_dir,
    write_idx,
)
from batchbald.data.fetch import locate_files
from batchbald.errors import DataError, InvalidInputError, UnknownNameError

from .conftest import (
    MNIST_FILES,
    SHARED_MNIST,
    FakeOpener,
    checksums_of,
    tiny_arrays,
    unique_name,
    write_dataset,
)


def expected_inputs(images: np.ndarray, mean: float, std: float) -> torch.Tensor:
    """ToTensor then Normalize, computed independently in float64 then rounded."""
    return torch.from_numpy((images.astype(np.float64) / 255.0 - mean) / std).float().unsqueeze(1)


def register_tiny(name: str, **overrides: object):
    params = {"num_classes": 3, "mean": 0.5, "std": 0.25, "class_names": ("a", "b", "c")}
    params.update(overrides)
    return register_idx_dataset(name, **params)  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", ["subfolder", "flat", "raw"])
def test_loads_and_normalises(tmp_path: Path, layout: str) -> None:
    arrays = tiny_arrays()
    name = unique_name()
    folder = tmp_path / name if layout == "subfolder" else tmp_path
    write_dataset(folder, arrays, gz=layout != "raw")
    register_tiny(name)
    splits = load_dataset(name, data_dir=tmp_path, download=False)
    assert splits.name == name
    train, test = splits.train, splits.test
    assert train.inputs.shape == (12, 1, 28, 28) and train.inputs.dtype == torch.float32
    assert test.labels.dtype == torch.int64 and test.labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert train.num_classes == 3 and train.class_names == ("a", "b", "c")
    torch.testing.assert_close(train.inputs, expected_inputs(arrays["train_images"], 0.5, 0.25))


def test_mean_std_override(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    write_dataset(tmp_path, arrays)
    name = unique_name()
    register_tiny(name)
    splits = load_dataset(name, data_dir=tmp_path, mean=0.1307, std=0.3081)
    torch.testing.assert_close(
        splits.test.inputs, expected_inputs(arrays["test_images"], 0.1307, 0.3081)
    )


def test_data_dir_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    assert resolve_data_dir() == isolated_env / ".cache" / "batchbald"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resolve_data_dir() == Path(os.environ["HOME"]) / ".cache" / "batchbald"
    monkeypatch.setenv("BATCHBALD_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_env_dir_is_used_when_no_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique_name()
    write_dataset(tmp_path / "env" / name, tiny_arrays())
    register_tiny(name)
    monkeypatch.setenv("BATCHBALD_DATA_DIR", str(tmp_path / "env"))
    assert len(load_dataset(name, download=False).train) == 12


def test_missing_files_list_expected_files_and_every_place(tmp_path: Path) -> None:
    name = unique_name()
    register_tiny(name)
    with pytest.raises(DataError) as info:
        load_dataset(name, data_dir=tmp_path, download=False)
    message = str(info.value)
    assert f"dataset {name!r}: missing 4 file(s): train-images-idx3-ubyte.gz" in message
    for file_name in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        for folder in (tmp_path / name, tmp_path):
            assert f"  {folder / file_name}.gz\n" in message
            assert f"  {folder / file_name}\n" in message
    assert "download is disabled (download=False)" in message
    assert "BATCHBALD_DATA_DIR" in message


def served_files(arrays: dict, base: str, tmp_path: Path) -> tuple[FakeOpener, dict[str, str]]:
    paths = write_dataset(tmp_path / "upstream", arrays)
    files = {base + p.name: p.read_bytes() for p in paths.values()}
    return FakeOpener(files), checksums_of(paths)


def test_downloads_missing_files_into_the_dataset_folder(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    opener, checksums = served_files(arrays, "http://mirror/", tmp_path)
    name = unique_name()
    register_tiny(name, base_urls=("http://dead/", "http://mirror/"), checksums=checksums)
    data_dir = tmp_path / "data"
    splits = load_dataset(name, data_dir=data_dir, opener=opener)
    assert sorted(p.name for p in (data_dir / name).iterdir()) == sorted(checksums)
    assert splits.train.labels.tolist() == arrays["train_labels"].tolist()
    calls = len(opener.calls)
    load_dataset(name, data_dir=data_dir, opener=opener)
    assert len(opener.calls) == calls  # nothing downloaded twice


def test_download_failure_lists_files_places_and_urls(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    opener, checksums = served_files(arrays, "http://mirror/", tmp_path)
    checksums["t10k-labels-idx1-ubyte.gz"] = "md5:" + "0" * 32  # the mirror serves other bytes
    name = unique_name()
    register_tiny(name, base_urls=("http://mirror/",), checksums=checksums)
    data_dir = tmp_path / "data"
    with pytest.raises(DataError) as info:
        load_dataset(name, data_dir=data_dir, opener=opener)
    message = str(info.value)
    assert "missing 1 file(s): t10k-labels-idx1-ubyte.gz" in message
    assert f"  {data_dir / name / 't10k-labels-idx1-ubyte.gz'}\n" in message
    assert "http://mirror/t10k-labels-idx1-ubyte.gz: checksum mismatch: expected md5:000" in message
    assert not (data_dir / name / "t10k-labels-idx1-ubyte.gz").exists()
    assert not [p for p in (data_dir / name).iterdir() if p.name.endswith(".part")]


def test_corrupt_local_file_fails_its_checksum(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, tiny_arrays())
    checksums = checksums_of(paths)
    write_idx(paths["train_labels"], np.zeros(12, np.uint8))  # replaced after registration
    name = unique_name()
    register_tiny(name, checksums=checksums)
    with pytest.raises(
        DataError,
        match=r"train-labels-idx1-ubyte.gz has the wrong checksum: "
        r"expected sha256:.*delete it to download it again",
    ):
        load_dataset(name, data_dir=tmp_path, download=False)


@pytest.mark.parametrize(
    ("role", "array", "message"),
    [
        ("train_labels", np.zeros(11, np.uint8), r"expected 12 labels \(one per image"),
        (
            "test_labels",
            np.full(6, 3, np.uint8),
            r"labels in \[0, 3\); found 6 outside that range, e.g. 3",
        ),
        ("train_images", np.zeros((12, 784), np.uint8), r"expected images \[N, H, W\]"),
    ],
)
def test_inconsistent_files(tmp_path: Path, role: str, array: np.ndarray, message: str) -> None:
    arrays = tiny_arrays()
    arrays[role] = array
    write_dataset(tmp_path, arrays)
    name = unique_name()
    register_tiny(name)
    with pytest.raises(DataError, match=message):
        load_dataset(name, data_dir=tmp_path, download=False)


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "decoded-cache").rglob("*.npy"))


def test_decoded_arrays_are_cached_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = tiny_arrays()
    write_dataset(tmp_path, arrays)
    name = unique_name()
    register_tiny(name)
    first = load_dataset(name, data_dir=tmp_path)
    assert len(cache_files(tmp_path)) == 4

    def no_decoding(path: object) -> None:
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(loading, "read_idx", no_decoding)
    second = load_dataset(name, data_dir=tmp_path)
    assert torch.equal(first.train.inputs, second.train.inputs)


def test_cache_is_invalidated_when_the_file_changes(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    paths = write_dataset(tmp_path, arrays)
    name = unique_name()
    register_tiny(name)
    load_dataset(name, data_dir=tmp_path)
    write_idx(paths["test_labels"], np.array([2, 2, 2, 1, 1, 1], np.uint8))
    os.utime(paths["test_labels"], ns=(1, 1))  # a different mtime even on coarse clocks
    assert load_dataset(name, data_dir=tmp_path).test.labels.tolist() == [2, 2, 2, 1, 1, 1]


def test_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    write_dataset(tmp_path, tiny_arrays())
    name = unique_name()
    register_tiny(name)
    reference = load_dataset(name, data_dir=tmp_path)
    for path in cache_files(tmp_path):
        path.write_bytes(b"garbage")
    again = load_dataset(name, data_dir=tmp_path)
    assert torch.equal(reference.train.inputs, again.train.inputs)


def test_cache_disabled_or_unwritable(tmp_path: Path) -> None:
    write_dataset(tmp_path, tiny_arrays())
    name = unique_name()
    register_tiny(name)
    load_dataset(name, data_dir=tmp_path, cache=False)
    assert cache_files(tmp_path) == []
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    assert len(load_dataset(name, data_dir=tmp_path, cache=blocker / "sub").train) == 12


def test_unknown_dataset_lists_names() -> None:
    with pytest.raises(
        UnknownNameError,
        match=r"unknown dataset 'cifar'; available: "
        r"emnist_balanced, fashion_mnist, mnist",
    ):
        load_dataset("cifar")
    assert {"mnist", "fashion_mnist", "emnist_balanced"} <= set(available_datasets())


def test_register_validation() -> None:
    with pytest.raises(InvalidInputError, match="dataset 'mnist' is already registered"):
        register_idx_dataset("mnist", num_classes=10, mean=0.0, std=1.0)
    with pytest.raises(InvalidInputError, match=r"missing \['test_labels'\], unknown \['extra'\]"):
        register_idx_dataset(
            unique_name(),
            files={"train_images": "a", "train_labels": "b", "test_images": "c", "extra": "d"},
            num_classes=2,
            mean=0.0,
            std=1.0,
        )
    with pytest.raises(InvalidInputError, match="dataset name must use letters"):
        register_idx_dataset("bad name", num_classes=2, mean=0.0, std=1.0)
    with pytest.raises(InvalidInputError, match="std > 0"):
        register_idx_dataset(unique_name(), num_classes=2, mean=0.0, std=0.0)
    with pytest.raises(InvalidInputError, match="class_names must have num_classes = 2"):
        register_idx_dataset(unique_name(), num_classes=2, mean=0.0, std=1.0, class_names="abc")


def test_builtin_specs_follow_the_protocol() -> None:
    mnist, emnist = get_dataset_spec("mnist"), get_dataset_spec("emnist_balanced")
    fashion = get_dataset_spec("fashion_mnist")
    assert (mnist.mean, mnist.std) == (emnist.mean, emnist.std) == (0.1307, 0.3081)
    assert (fashion.mean, fashion.std) == (0.2860, 0.3530)
    assert emnist.num_classes == 47 and emnist.transpose and not mnist.transpose
    assert emnist.archive is not None and emnist.archive.member_prefix == "gzip/"
    for spec in (mnist, emnist, fashion):
        gz_files = [f for f in spec.files.values() if f.endswith(".gz")]
        assert all(f in spec.checksums for f in gz_files)
    # A replaced spec keeps the dataclass contract (frozen).
    with pytest.raises(dataclasses.FrozenInstanceError):
        mnist.mean = 0.0  # type: ignore[misc]


@pytest.mark.skipif(not (SHARED_MNIST / "mnist").is_dir(), reason="shared MNIST absent")
def test_builtin_mnist_downloads_from_its_mirror_with_real_checksums(tmp_path: Path) -> None:
    spec = get_dataset_spec("mnist")
    served = {
        "https://ossci-datasets.s3.amazonaws.com/mnist/" + name: (
            SHARED_MNIST / "mnist" / name
        ).read_bytes()
        for name in MNIST_FILES.values()
    }
    opener = FakeOpener(served)
    paths = locate_files(spec, tmp_path, download=True, opener=opener)
    assert sorted(opener.calls) == sorted(served)
    assert {p.parent for p in paths.values()} == {tmp_path / "mnist"}


def test_builtin_fashion_mnist_rejects_wrong_bytes(tmp_path: Path) -> None:
    base = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    opener = FakeOpener({base + name: b"not fashion" for name in MNIST_FILES.values()})
    with pytest.raises(DataError) as info:
        load_dataset("fashion_mnist", data_dir=tmp_path, opener=opener)
    message = str(info.value)
    assert "missing 4 file(s)" in message
    assert "checksum mismatch: expected md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d" in message
    assert "raw.githubusercontent.com/zalandoresearch/fashion-mnist" in message
    assert not any((tmp_path / "fashion_mnist").iterdir())
