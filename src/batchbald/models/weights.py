"""User weights from a local file: ``.safetensors`` or a torch state dict; nothing downloaded.

The safetensors format (an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian bytes) is read here directly,
so no extra dependency is needed. Any other suffix is read with
``torch.load(weights_only=True)`` (a state dict, or a dict holding one under ``"state_dict"``).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from batchbald.atomic import atomic_write_bytes
from batchbald.data.array_files import check_format, load_torch
from batchbald.errors import WeightsError

__all__ = ["load_weights", "read_weights", "write_safetensors"]

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}  # fmt: skip
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    raw = path.read_bytes()
    try:
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + length])
        start = 8 + length
        tensors = {}
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            dtype = _DTYPES[entry["dtype"]]
            data = bytearray(raw[start + begin : start + end])
            flat = torch.frombuffer(data, dtype=dtype) if data else torch.empty(0, dtype=dtype)
            tensors[name] = flat.reshape(entry["shape"])
    except (struct.error, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise WeightsError(
            f"weights file {str(path)!r} is not a valid safetensors file: {error}"
        ) from None
    return tensors


def write_safetensors(tensors: Mapping[str, torch.Tensor], path: str | os.PathLike[str]) -> None:
    """Write ``tensors`` as a safetensors file (atomically: temporary file, then rename)."""
    header, chunks, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": _NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}  # fmt: skip
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    atomic_write_bytes(path, struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def read_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, by name (see module doc).

    Raises:
        WeightsError: the file is missing, a directory, of another format than its suffix says
            (named), a pickle torch refuses (``weights_only``), unreadable, or holds no state
            dict.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        check_format(path, "weights file", ("safetensors",), error=WeightsError)
        return _read_safetensors(path)
    try:
        state = load_torch(path, "weights file", error=WeightsError)
    except WeightsError:
        raise
    except Exception as error:  # torch raises many types for a damaged file
        raise WeightsError(f"cannot read weights file {str(path)!r}: {error}") from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise WeightsError(
            f"weights file {str(path)!r} must hold a state dict (names -> tensors); got "
            f"{type(state).__name__}"
        )
    return dict(state)


def load_weights(
    module: nn.Module, path: str | os.PathLike[str], *, skip: Iterable[str] = ()
) -> nn.Module:
    """Load a weights file into ``module`` in place; every tensor must fit.

    Args:
        module: the network the file was saved from (same parameter names).
        path: a ``.safetensors`` file or a torch state dict file.
        skip: name prefixes to leave at their current values on both sides (e.g. ``["fc"]``
            to keep a freshly initialised classifier when the file's has other classes).

    Raises:
        WeightsError: missing/unreadable file, or the first tensor (in the module's order)
            that is missing from the file, has another shape, or is not in the module.
    """
    skip = tuple(skip)

    def kept(name: str) -> bool:
        return not any(name == s or name.startswith(s + ".") for s in skip)

    file_state = {n: t for n, t in read_weights(path).items() if kept(n)}
    own = {n: t for n, t in module.state_dict().items() if kept(n)}
    where = f"weights file {str(path)!r} does not fit {type(module).__name__}"
    for name, tensor in own.items():
        if name not in file_state:
            raise WeightsError(f"{where}: tensor {name!r} is missing from the file")
        if tuple(file_state[name].shape) != tuple(tensor.shape):
            raise WeightsError(
                f"{where}: tensor {name!r} has shape {tuple(file_state[name].shape)} in the "
                f"file but {tuple(tensor.shape)} in the model"
            )
    unexpected = [name for name in file_state if name not in own]
    if unexpected:
        raise WeightsError(f"{where}: tensor {unexpected[0]!r} is not in the model")
    module.load_state_dict(file_state, strict=False)
    return module
