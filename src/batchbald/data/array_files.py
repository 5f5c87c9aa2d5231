"""Reading arrays from user files, and the one check of what a file holds (issue 25).

Every reader of user data files goes through here: IDX datasets (labels and pixels), embeddings
folders, ``.npz`` pool sources, ``batchbald acquire``'s LOG_PROBS files and weights files. A
directory where a file should be, a file whose bytes are another format than its name says
(a ``.npy`` that is a torch file and the reverse, random bytes, a pickle torch refuses), numpy
string or object arrays, and labels that are NaN, fractional, negative or too large are errors
that name the file, what was expected and what was found.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from batchbald.errors import DataError

__all__ = [
    "check_format",
    "check_labels",
    "check_numeric",
    "describe_format",
    "file_format",
    "file_problem",
    "load_npy",
    "load_npz",
    "load_torch",
]

_FORMATS = {
    "npy": "a NumPy .npy file (numpy.save)",
    "npz": "a NumPy .npz archive (numpy.savez)",
    "torch": "a PyTorch file (torch.save)",
    "pickle": "a Python pickle (or a PyTorch file in the legacy format)",
    "zip": "a zip archive",
    "gzip": "a gzip file",
    "idx": "an IDX file",
    "safetensors": "a safetensors file",
    "empty": "an empty file",
}
_KIND_WORDS = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable file ("does not exist", "is a directory, ..."), or None."""
    if path.is_file():
        return None
    if path.is_dir():
        return "is a directory, not a file"
    return "does not exist" if not os.path.lexists(path) else "is not a regular file"


def file_format(path: Path) -> str:
    """The format ``path``'s first bytes show: a key of the formats above, or ``"unknown"``."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head:
        return "empty"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle protocols 2-5
        return "pickle"
    if len(head) >= 4 and head[:2] == b"\x00\x00" and head[2] in (8, 9, 11, 12, 13, 14):
        return "idx"
    if len(head) > 8 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") > 1:
        return "safetensors"
    return "unknown"


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "zip"
    if any(name.endswith("data.pkl") for name in names):
        return "torch"
    return "npz" if names and all(name.endswith(".npy") for name in names) else "zip"


def describe_format(path: Path) -> str:
    """What ``path`` holds, in words ("a PyTorch file (torch.save)", "unrecognised bytes ...")."""
    kind = file_format(path)
    if kind != "unknown":
        return _FORMATS[kind]
    with path.open("rb") as handle:
        return f"unrecognised bytes ({handle.read(8).hex(' ')} ...)"


def check_format(
    path: Path, what: str, allowed: tuple[str, ...], *, error: type = DataError
) -> None:
    """Raise ``error`` unless ``path`` is a file whose bytes are in one of the ``allowed`` formats.

    The message names the file (``what`` says what it is), the first format expected and the
    format found (:func:`describe_format`).
    """
    problem = file_problem(path)
    if problem is not None:
        raise error(f"{what} {str(path)!r} {problem}")
    if file_format(path) not in allowed:
        expected = _FORMATS[allowed[0]]
        raise error(f"{what} {str(path)!r}: expected {expected}; found {describe_format(path)}")


def load_npy(path: str | os.PathLike[str], what: str, *, mmap: bool = False) -> np.ndarray:
    """A numeric array from a ``.npy`` file, checked to be one (never unpickled).

    Args:
        path: the file.
        what: how messages name it ("embeddings file", "LOG_PROBS file").
        mmap: memory-map it copy-on-write instead of reading it.

    Raises:
        DataError: missing, a directory, not a ``.npy`` file (its format is named), unreadable,
            or an array of strings or Python objects.
    """
    path = Path(path)
    check_format(path, what, ("npy",))
    try:
        array = np.load(path, mmap_mode="c" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise _numpy_error(error, what, path) from None
    return check_numeric(array, f"{what} {str(path)!r}")


def load_npz(
    path: str | os.PathLike[str], what: str, required: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive (never unpickled); the ``required`` names must be there.

    Raises:
        DataError: missing, a directory, not an ``.npz`` archive (its format is named),
            unreadable, an array of Python objects, or a required array missing.
    """
    path = Path(path)
    check_format(path, what, ("npz",))
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise _numpy_error(error, what, path) from None
    if any(name not in arrays for name in required):
        raise DataError(
            f"{what} {str(path)!r}: expected arrays named {', '.join(required)}; found "
            f"{', '.join(arrays) or 'none'}"
        )
    return arrays


def _numpy_error(error: Exception, what: str, path: Path) -> DataError:
    """The error for numpy failing to read ``path`` (object arrays are named as such)."""
    if "allow_pickle" in str(error):
        return DataError(
            f"{what} {str(path)!r}: expected arrays of numbers; found an array of Python "
            "objects (dtype object), which is never unpickled. Save numeric arrays"
        )
    return DataError(f"cannot read {what} {str(path)!r}: {error}")


def check_numeric(
    array: np.ndarray, where: str, expected: str = "an array of numbers", error: type = DataError
) -> Any:
    """``array`` must hold numbers (bool, int, float); strings and objects are named errors."""
    if array.dtype.kind not in "biuf":
        words = _KIND_WORDS.get(array.dtype.kind, "not numbers")
        raise error(f"{where}: expected {expected}; found dtype {array.dtype} ({words})")
    return array


def load_torch(path: str | os.PathLike[str], what: str, *, error: type = DataError) -> Any:
    """What a ``torch.save`` file holds, read with ``weights_only=True`` onto the CPU.

    Raises:
        error: missing, a directory, not a PyTorch file (its format is named), holding Python
            objects that ``weights_only`` refuses (for safety), or unreadable.
    """
    import torch

    path = Path(path)
    check_format(path, what, ("torch", "pickle"), error=error)
    try:
        with warnings.catch_warnings():  # a pickle of protocol > 2 warns before it is refused
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as refused:
        raise error(
            f"{what} {str(path)!r}: expected tensors saved with torch.save (read with "
            f"weights_only=True); found Python objects torch refuses to load safely "
            f"({_refusal(refused)}). Save only tensors (e.g. a state dict)"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as failure:
        raise error(f"cannot read {what} {str(path)!r}: {failure}") from None


def _refusal(refused: Exception) -> str:
    """What torch's weights_only refusal says it refused (its first sentence)."""
    text = str(refused)
    if "WeightsUnpickler error:" not in text:
        return "not tensors"
    detail = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0]
    return " ".join(detail.split()).split(". ")[0] or "not tensors"


def check_labels(
    labels: np.ndarray,
    where: str,
    num_classes: int | None = None,
    *,
    unlabelled: bool = False,
    error: type = DataError,
) -> np.ndarray:
    """Class labels read from a file, as int64: whole numbers in ``[0, num_classes)``.

    Args:
        labels: the array read (any numeric dtype; floats must hold whole numbers).
        where: names the file in messages.
        num_classes: C, or None for no upper bound.
        unlabelled: ``-1`` is allowed and means "no label".
        error: the exception class (labels passed as arrays: ``InvalidInputError``).

    Raises:
        DataError: strings or objects, NaN, fractions, negative labels (other than an allowed
            -1) or labels ≥ C; the message counts them and shows one.
    """
    check_numeric(labels, where, "integer class labels", error)
    values = np.asarray(labels)
    low = -1 if unlabelled else 0
    bounds = f"in [{low}, {num_classes})" if num_classes is not None else f"≥ {low}"
    expected = f"whole-number class labels {bounds}"
    if values.dtype.kind == "f":
        _check_whole(values, f"{where}: expected {expected}", error)
    out = (values < low) | (values >= num_classes if num_classes is not None else False)
    if out.any():
        raise error(
            f"{where}: expected {expected}; found {int(out.sum())} outside that range, e.g. "
            f"{values[out][0].item()!r}"
        )
    return values.astype(np.int64)


def _check_whole(values: np.ndarray, expected: str, error: type) -> None:
    """Floats must be finite whole numbers (``expected`` starts the message)."""
    for bad, found in ((np.isnan(values), "NaN"), (np.isinf(values), "infinite")):
        if bad.any():
            raise error(f"{expected}; found {int(bad.sum())} {found}")
    fractional = values != np.round(values)
    if fractional.any():
        raise error(
            f"{expected}; found {int(fractional.sum())} non-integer labels, "
            f"e.g. {values[fractional][0].item()!r}"
        )
