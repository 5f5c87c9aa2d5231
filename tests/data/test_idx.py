"""IDX reading and writing: round trips, the real MNIST header, and every corruption."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from batchbald.data import read_idx, write_idx
from batchbald.errors import BatchBALDError, DataError

from .conftest import SHARED_MNIST


def raw_idx(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file built by hand (independent of write_idx)."""
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_reads_a_hand_built_file_raw_or_gzip(tmp_path: Path, suffix: str) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    payload = raw_idx(images)
    path = tmp_path / f"images-idx3-ubyte{suffix}"
    path.write_bytes(gzip.compress(payload) if suffix else payload)
    array = read_idx(path)
    assert array.dtype == np.uint8 and array.shape == (2, 3, 4)
    np.testing.assert_array_equal(array, images)
    array[0, 0, 0] = 7  # writable


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    labels = np.array([3, 1, 4], np.uint8)
    path = tmp_path / "labels.idx1"  # gzip content, no .gz suffix
    path.write_bytes(gzip.compress(raw_idx(labels)))
    np.testing.assert_array_equal(read_idx(path), labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_write_then_read_round_trips(tmp_path: Path, dtype: type, name: str) -> None:
    array = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, array)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result, array)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_write_idx_output_matches_the_hand_built_bytes(tmp_path: Path) -> None:
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    path = write_idx(tmp_path / "x.idx", array)
    assert path.read_bytes() == raw_idx(array, 0x0B)


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5)))
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory, array: np.ndarray) -> None:
    path = write_idx(tmp_path_factory.mktemp("idx") / "a.gz", array)
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.skipif(not (SHARED_MNIST / "mnist").is_dir(), reason="shared MNIST absent")
def test_reads_the_real_mnist_test_labels() -> None:
    labels = read_idx(SHARED_MNIST / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10_000,)
    # Counts from /work/shared/datasets/README.md.
    expected = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(labels).tolist() == expected


def write(tmp_path: Path, payload: bytes, name: str = "bad-idx3-ubyte") -> Path:
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_bad_magic_names_file_expected_and_found(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x12\x34\x08\x03" + bytes(12))
    with pytest.raises(
        DataError,
        match=r"bad-idx3-ubyte is not an IDX file: expected the magic "
        r"bytes 0x00 0x00 TYPE NDIM; found 12 34 08 03",
    ):
        read_idx(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="found an empty file"):
        read_idx(write(tmp_path, b""))


def test_unknown_type_code(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unknown IDX data type 0x07.*0x08 = unsigned byte"):
        read_idx(write(tmp_path, bytes([0, 0, 7, 1, 0, 0, 0, 1, 5])))


def test_truncated_header(tmp_path: Path) -> None:
    with pytest.raises(
        DataError,
        match=r"truncated IDX header: expected 3 dimension sizes "
        r"\(16 header bytes, NDIM ≥ 1\); found 10 bytes",
    ):
        read_idx(write(tmp_path, bytes([0, 0, 8, 3]) + bytes(6)))


def test_truncated_data(tmp_path: Path) -> None:
    payload = raw_idx(np.zeros((4, 28, 28), np.uint8))[:-100]
    with pytest.raises(
        DataError,
        match=r"is truncated: dimensions \(4, 28, 28\) need 3136 data "
        r"bytes after the 16-byte header; found 3036",
    ):
        read_idx(write(tmp_path, payload))


def test_trailing_bytes(tmp_path: Path) -> None:
    payload = raw_idx(np.zeros(5, np.uint8)) + b"xx"
    with pytest.raises(DataError, match=r"longer than its header says.*need 5 data bytes.*found 7"):
        read_idx(write(tmp_path, payload))


def test_truncated_gzip(tmp_path: Path) -> None:
    payload = gzip.compress(raw_idx(np.arange(2000, dtype=np.int32)))[:-30]
    path = write(tmp_path, payload, "labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match=r"labels-idx1-ubyte\.gz is a corrupt or truncated gzip"):
        read_idx(path)


def test_missing_file_is_a_data_error_and_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot read IDX file .*nope") as info:
        read_idx(tmp_path / "nope")
    assert isinstance(info.value, OSError) and isinstance(info.value, BatchBALDError)


def test_write_idx_rejects_unsupported_dtype_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match="dtype uint8, int8, int16, int32, float32 or float64; got dtype complex64"
    ):
        write_idx(tmp_path / "x.idx", np.zeros(3, np.complex64))
    assert list(tmp_path.iterdir()) == []
