"""Reading and writing IDX files (the MNIST family's format), raw or gzip-compressed.

Layout (big-endian): magic ``0x00 0x00 TYPE NDIM``, then NDIM uint32 dimension sizes, then
the data in row-major order. MNIST-family files use TYPE ``0x08`` (unsigned byte).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from batchbald.atomic import atomic_write  # re-exported: its historical home
from batchbald.data.array_files import describe_format, file_format, file_problem
from batchbald.errors import DataError

__all__ = ["atomic_write", "read_idx", "write_idx"]

GZIP_MAGIC = b"\x1f\x8b"

# IDX type byte -> big-endian numpy dtype.
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in _IDX_TYPES.items()}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw, or gzip-compressed: detected from its first bytes).

    Args:
        path: the file.

    Returns:
        A writable native-endian array whose shape is the header's dimensions (uint8 for
        the MNIST family).

    Raises:
        DataError: the file is missing, not gzip/IDX, truncated, or longer than its header
            says; the message names the file, what was expected and what was found.
    """
    path = Path(path)
    buffer = _read_bytes(path)
    dtype, dims, header_size = _header(path, buffer)
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(buffer) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise DataError(
            f"{path} is {problem}: dimensions {dims} need {expected} data bytes after the "
            f"{header_size}-byte header; found {found}"
        )
    array = np.frombuffer(buffer, dtype, offset=header_size).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _header(path: Path, buffer: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
    """The data type, dimensions and header size an IDX file's header declares."""
    if len(buffer) < 4 or buffer[0] != 0 or buffer[1] != 0:
        raise DataError(
            f"{path} is not an IDX file: expected the magic bytes 0x00 0x00 TYPE NDIM; "
            f"found {buffer[:4].hex(' ') or 'an empty file'}{_kind(path)}"
        )
    type_code, ndim = buffer[2], buffer[3]
    if type_code not in _IDX_TYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_TYPES)
        raise DataError(
            f"{path} has an unknown IDX data type 0x{type_code:02X} in its magic number; "
            f"expected one of {known} (0x08 = unsigned byte for MNIST-family files)"
        )
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(buffer) < header_size:
        raise DataError(
            f"{path} has a truncated IDX header: expected {ndim} dimension sizes "
            f"({header_size} header bytes, NDIM ≥ 1); found {len(buffer)} bytes in total"
        )
    dims = tuple(int(d) for d in np.frombuffer(buffer, ">u4", count=ndim, offset=4))
    return _IDX_TYPES[type_code], dims, header_size


def _kind(path: Path) -> str:
    """`` (a PyTorch file (torch.save))`` when the bytes are a format we know, else ""."""
    kind = file_format(path)
    return f" ({describe_format(path)})" if kind not in ("unknown", "empty", "gzip") else ""


def _read_bytes(path: Path) -> bytes:
    problem = file_problem(path)
    if problem is not None and problem != "does not exist":  # a directory, a device, ...
        raise DataError(f"IDX file {path} {problem}")
    try:
        with path.open("rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise DataError(f"cannot read IDX file {path}: {error}") from error
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"{path} is a corrupt or truncated gzip file: expected a complete gzip stream; "
            f"decompression failed with: {error}"
        ) from error


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The file appears atomically (written to a temporary file, then renamed).

    Args:
        path: destination.
        array: any shape with NDIM ≥ 1; dtype uint8, int8, int16, int32, float32 or float64.

    Returns:
        The path written.
    """
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0:
        raise DataError(
            "write_idx needs an array with NDIM ≥ 1 of dtype uint8, int8, int16, int32, "
            f"float32 or float64; got dtype {array.dtype} and shape {array.shape}"
        )
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + np.ascontiguousarray(array, _IDX_TYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        # mtime=0 makes the bytes (and so checksums) reproducible.
        payload = gzip.compress(payload, mtime=0)
    atomic_write(path, lambda handle: handle.write(payload))
    return path
