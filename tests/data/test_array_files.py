"""Data files of the wrong kind: named errors from every reader (issue 25).

``batchbald.data.array_files`` is the one check: IDX datasets (labels and pixels), embeddings
folders, ``.npz`` pool sources, LOG_PROBS files (``batchbald acquire``) and weights files read
through it. Each message names the file, what was expected and what was found.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from batchbald.data import load_dataset, register_idx_dataset
from batchbald.data.array_files import (
    check_labels,
    describe_format,
    file_format,
    load_npy,
    load_torch,
)
from batchbald.data.embeddings import load_embeddings, write_demo_embeddings
from batchbald.data.sources import ArraySource
from batchbald.errors import DataError, InvalidInputError, WeightsError
from batchbald.models.weights import read_weights

from .conftest import MNIST_FILES, tiny_arrays, unique_name, write_dataset


class NotATensor:
    """A class torch's weights_only unpickler refuses."""


def write_kinds(folder: Path) -> dict[str, Path]:
    """One file of each kind the sniffing knows, by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{kind}.bin" for kind in ("npy", "npz", "torch", "pickle", "unknown")}
    with paths["npy"].open("wb") as handle:
        np.save(handle, np.zeros(3))
    with paths["npz"].open("wb") as handle:
        np.savez(handle, images=np.zeros(3))
    torch.save(torch.zeros(3), paths["torch"])
    paths["pickle"].write_bytes(pickle.dumps({"a": 1}, protocol=4))
    paths["unknown"].write_bytes(b"random bytes, not a format")
    (folder / "empty.bin").write_bytes(b"")
    paths["empty"] = folder / "empty.bin"
    return paths


def test_formats_are_told_apart(tmp_path):
    for kind, path in write_kinds(tmp_path).items():
        assert file_format(path) == kind
    assert describe_format(tmp_path / "unknown.bin") == "unrecognised bytes (72 61 6e 64 6f 6d " \
        "20 62 ...)"  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "found"),
    [
        ("torch", r"a PyTorch file \(torch\.save\)"),
        ("npz", r"a NumPy \.npz archive"),
        ("unknown", r"unrecognised bytes \(72 61 6e"),
        ("empty", r"an empty file"),
    ],
)
def test_npy_reader_names_what_it_found(tmp_path, kind, found):
    path = write_kinds(tmp_path)[kind]
    with pytest.raises(
        DataError, match=rf"^LOG_PROBS file '.*{path.name}': expected a NumPy \.npy file "
        rf"\(numpy\.save\); found {found}"
    ):  # fmt: skip
        load_npy(path, "LOG_PROBS file")


def test_npy_of_strings_or_objects(tmp_path):
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    np.save(tmp_path / "objects.npy", np.array([None, 1], dtype=object))
    with pytest.raises(DataError, match=r"strings\.npy': expected an array of numbers; found "
                                        r"dtype <U1 \(strings\)$"):  # fmt: skip
        load_npy(tmp_path / "strings.npy", "x file")
    with pytest.raises(DataError, match=r"objects\.npy': expected arrays of numbers; found an "
                                        r"array of Python objects \(dtype object\)"):  # fmt: skip
        load_npy(tmp_path / "objects.npy", "x file")


def test_a_directory_is_not_missing(tmp_path):
    (tmp_path / "dir.npy").mkdir()
    with pytest.raises(DataError, match=r"^x file '.*dir\.npy' is a directory, not a file$"):
        load_npy(tmp_path / "dir.npy", "x file")
    with pytest.raises(DataError, match=r"^x file '.*none\.npy' does not exist$"):
        load_npy(tmp_path / "none.npy", "x file")


def test_torch_reader_names_npy_and_refused_pickles(tmp_path):
    paths = write_kinds(tmp_path)
    with pytest.raises(DataError, match=r"expected a PyTorch file \(torch\.save\); found a NumPy "
                                        r"\.npy file"):  # fmt: skip
        load_torch(paths["npy"], "weights file")
    torch.save({"x": NotATensor()}, tmp_path / "objects.pt")
    with pytest.raises(
        DataError, match=r"objects\.pt': expected tensors saved with torch\.save \(read with "
        r"weights_only=True\); found Python objects torch refuses to load safely \(Unsupported "
        r"global: .*NotATensor"
    ):  # fmt: skip
        load_torch(tmp_path / "objects.pt", "weights file")
    legacy = tmp_path / "legacy.pt"
    torch.save(torch.ones(2), legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(load_torch(legacy, "weights file"), torch.ones(2))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, -2, 1], np.int32), r"found 1 outside that range, e\.g\. -2$"),
        (np.array([0.0, 1.5, 2.5]), r"found 2 non-integer labels, e\.g\. 1\.5$"),
        (np.array([0.0, np.nan]), r"found 1 NaN$"),
        (np.array([0.0, np.inf]), r"found 1 infinite$"),
        (np.array([0, 3]), r"found 1 outside that range, e\.g\. 3$"),
        (np.array(["0", "1"]), r"integer class labels; found dtype <U1 \(strings\)$"),
    ],
)
def test_label_check(labels, message):
    with pytest.raises(DataError, match=r"^f: expected .*" + message):
        check_labels(labels, "f", 3)


def test_whole_number_float_labels_are_read_exactly():
    assert check_labels(np.array([2.0, 0.0]), "f", 3).tolist() == [2, 0]
    assert check_labels(np.array([-1, 2]), "f", 3, unlabelled=True).tolist() == [-1, 2]


# IDX datasets: labels of any IDX type, pixels, a directory in a file's place.


def _load_tiny(tmp_path, role, array):
    arrays = tiny_arrays()
    arrays[role] = array
    write_dataset(tmp_path, arrays)
    name = unique_name()
    register_idx_dataset(name, num_classes=3, mean=0.5, std=0.25)
    return lambda: load_dataset(name, data_dir=tmp_path, download=False)


@pytest.mark.parametrize(
    ("role", "array", "message"),
    [
        ("train_labels", (np.arange(12) % 3 - 1).astype(np.int32), r"train-labels-idx1-ubyte\.gz "
         r"\(dataset 'tiny_\d+'\): expected whole-number class labels in \[0, 3\); found 4 "
         r"outside that range, e\.g\. -1"),
        ("test_labels", np.array([0, 1, 2, 0.5, 1, 2], np.float32), r"found 1 non-integer "
         r"labels, e\.g\. 0\.5"),
        ("test_labels", np.array([0, 1, 2, np.nan, 1, 2]), r"found 1 NaN"),
        ("train_images", np.full((12, 28, 28), 0.5, np.float32), r"train-images-idx3-ubyte\.gz: "
         r"expected whole-number pixels 0\.\.255 \(IDX type 0x08, unsigned byte, as in MNIST\); "
         r"found float32 values in \[0\.5, 0\.5\]"),
        ("test_images", np.full((6, 28, 28), 300, np.int16), r"t10k-images-idx3-ubyte\.gz: "
         r"expected whole-number pixels .*; found int16 values in \[300, 300\]"),
    ],
)  # fmt: skip
def test_idx_contents_are_checked(tmp_path, role, array, message):
    with pytest.raises(DataError, match=message):
        _load_tiny(tmp_path, role, array)()


def test_idx_int32_labels_in_range_are_accepted(tmp_path):
    labels = (np.arange(12) % 3).astype(np.int32)
    assert _load_tiny(tmp_path, "train_labels", labels)().train.labels.tolist() == labels.tolist()


def test_idx_directory_in_place_of_a_file(tmp_path):
    load = _load_tiny(tmp_path, "train_labels", tiny_arrays()["train_labels"])
    (tmp_path / MNIST_FILES["test_images"]).unlink()
    (tmp_path / MNIST_FILES["test_images"]).mkdir()
    with pytest.raises(
        DataError, match=r"dataset 'tiny_\d+': .*t10k-images-idx3-ubyte\.gz is a directory, not "
        r"a file; expected the data file t10k-images-idx3-ubyte\.gz there"
    ):  # fmt: skip
        load()


# Embeddings folders and .npz sources.


def _embeddings(tmp_path):
    return write_demo_embeddings(
        tmp_path / "emb", num_train=20, num_test=10, dim=4, num_classes=2,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip


def test_embeddings_labels_and_formats(tmp_path):
    folder = _embeddings(tmp_path)
    np.save(folder / "train_labels.npy", np.where(np.arange(20) == 3, -1, np.arange(20) % 2))
    negative = r"train_labels\.npy': expected whole-number class labels ≥ 0; found 1 outside"
    with pytest.raises(DataError, match=negative):
        load_embeddings(folder)
    np.save(folder / "train_labels.npy", (np.arange(20) % 2).astype(np.float64))
    np.save(folder / "test_labels.npy", np.full(10, 2))
    with pytest.raises(DataError, match=r"test_labels\.npy': expected .* in \[0, 2\); found 10 "):
        load_embeddings(folder)
    torch.save(torch.zeros(10), folder / "test_labels.npy")
    with pytest.raises(DataError, match=r"test_labels\.npy': expected a NumPy \.npy file .*found "
                                        r"a PyTorch file"):  # fmt: skip
        load_embeddings(folder)
    (folder / "test_labels.npy").unlink()
    (folder / "test_labels.npy").mkdir()
    with pytest.raises(DataError, match=r"test_labels\.npy' is a directory, not a file"):
        load_embeddings(folder)


def test_npz_source_is_checked(tmp_path):
    torch.save(torch.zeros(2), tmp_path / "torch.npz")
    not_npz = r"'.*torch\.npz': expected a NumPy \.npz archive \(numpy\.savez\); found a PyTorch"
    with pytest.raises(DataError, match=r"^npz source " + not_npz):
        ArraySource.from_file(tmp_path / "torch.npz")
    np.savez(tmp_path / "float.npz", images=np.zeros((2, 4, 4), np.float32))
    with pytest.raises(DataError, match=r"npz source '.*float\.npz': images must be a non-empty "
                                        r"uint8 array"):  # fmt: skip
        ArraySource.from_file(tmp_path / "float.npz")
    np.savez(tmp_path / "labels.npz", images=np.zeros((2, 4, 4), np.uint8),
             labels=np.array([0.0, np.nan]))  # fmt: skip
    with pytest.raises(DataError, match=r"labels\.npz': labels: expected .*; found 1 NaN"):
        ArraySource.from_file(tmp_path / "labels.npz")
    np.savez(tmp_path / "none.npz", pixels=np.zeros(2))
    with pytest.raises(DataError, match=r"expected arrays named images; found pixels$"):
        ArraySource.from_file(tmp_path / "none.npz")


def test_array_source_labels_in_range(tmp_path):
    images = np.zeros((3, 4, 4), np.uint8)
    source = ArraySource(images, np.array([1, -1, 0]), ("a", "b"))
    assert [item.label for item in source.scan()] == ["b", None, "a"]
    with pytest.raises(InvalidInputError, match=r"^labels: expected .* in \[-1, 2\); found 1 "):
        ArraySource(images, np.array([1, 2, 0]), ("a", "b"))


# Weights files.


def test_weights_files_name_their_format(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros(2))
    npy = r"^weights file '.*w\.npy': expected a PyTorch file \(torch\.save\); found a NumPy"
    with pytest.raises(WeightsError, match=npy):
        read_weights(tmp_path / "w.npy")
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(WeightsError, match=r"'.*w\.safetensors': expected a safetensors file; "
                                           r"found a PyTorch file"):  # fmt: skip
        read_weights(tmp_path / "w.safetensors")
    torch.save({"layer": NotATensor()}, tmp_path / "objects.pt")
    with pytest.raises(WeightsError, match=r"refuses to load safely \(Unsupported global"):
        read_weights(tmp_path / "objects.pt")
    (tmp_path / "folder.pt").mkdir()
    with pytest.raises(WeightsError, match=r"weights file '.*folder\.pt' is a directory, not a"):
        read_weights(tmp_path / "folder.pt")
    shutil.rmtree(tmp_path / "folder.pt")


# The CLI: `batchbald acquire LOG_PROBS` and `batchbald run` print the same messages on one line.


def _acquire(path, capsys):
    from batchbald.cli import main

    status = main(["acquire", str(path), "--method", "bald", "--batch-size", "1"])
    return status, capsys.readouterr()


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("torch.npy", lambda p: torch.save(torch.zeros(2, 2, 2), p),
         r"LOG_PROBS file '.*torch\.npy': expected a NumPy \.npy file \(numpy\.save\); found a "
         r"PyTorch file \(torch\.save\)"),
        ("numpy.pt", lambda p: np.save(p.open("wb"), np.zeros((2, 2, 2))),
         r"LOG_PROBS file '.*numpy\.pt': expected a PyTorch file \(torch\.save\); found a NumPy"),
        ("random.npy", lambda p: p.write_bytes(b"\x01\x02random"),
         r"found unrecognised bytes \(01 02 72"),
        ("objects.pt", lambda p: torch.save([NotATensor()], p),
         r"found Python objects torch refuses to load safely \(Unsupported global"),
        ("objects.npy", lambda p: np.save(p, np.array([None], dtype=object)),
         r"found an array of Python objects \(dtype object\)"),
        ("strings.npy", lambda p: np.save(p, np.array([["a"]])), r"found dtype <U1 \(strings\)"),
        # A folder is read as a log-probability store (docs/scale.md): named as not being one.
        ("folder.npy", lambda p: p.mkdir(), r"folder\.npy' has no manifest\.json: not a log-prob"),
    ],
)  # fmt: skip
def test_cli_acquire_names_the_file(tmp_path, capsys, name, write, message):
    path = tmp_path / name
    write(path)
    status, captured = _acquire(path, capsys)
    assert status == 2 and captured.out == ""
    assert captured.err.startswith("batchbald acquire: error: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert __import__("re").search(message, captured.err), captured.err


def test_cli_run_names_a_bad_data_file_before_any_trial(tmp_path, capsys):
    from batchbald.cli import main

    folder = _embeddings(tmp_path)
    np.save(folder / "train_labels.npy", np.full(20, 0.5))
    config = tmp_path / "emb.toml"
    config.write_text(
        f'name = "emb"\nmodel = "embeddings_mlp"\n[data]\ndataset = "embeddings:{folder}"\n'
        'initial = "balanced"\nvalidation_size = 4\n[[methods]]\nacquirer = "bald"\n'
        "batch_size = 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald run: error: embeddings file '") and err.count("\n") == 1
    assert "train_labels.npy': expected whole-number class labels ≥ 0; found 20 non-integer" in err
    assert not list(out.rglob("*.json"))
