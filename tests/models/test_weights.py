"""User weights: safetensors and torch state dicts, and the named errors of bad files."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from torch import nn

from batchbald.errors import WeightsError
from batchbald.models import ResNet18, load_weights, read_weights, write_safetensors


def test_safetensors_read_matches_a_hand_built_file(tmp_path):
    """The file bytes are built by hand from the format's description (independent of the
    writer): header length, JSON header, raw little-endian data."""
    data = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0) + struct.pack("<2q", 7, -1)
    header = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
              "b": {"dtype": "I64", "shape": [2], "data_offsets": [16, 32]},
              "__metadata__": {"format": "pt"}}  # fmt: skip
    encoded = json.dumps(header).encode()
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    tensors = read_weights(path)
    assert torch.equal(tensors["a"], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert torch.equal(tensors["b"], torch.tensor([7, -1]))


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_round_trip_into_resnet(tmp_path, suffix):
    source = ResNet18(10, generator=torch.Generator().manual_seed(0))
    path = tmp_path / f"r{suffix}"
    if suffix == ".pt":
        torch.save({"state_dict": source.state_dict()}, path)
    else:
        write_safetensors(source.state_dict(), path)
    target = load_weights(ResNet18(10), path)
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_named_errors(tmp_path):
    with pytest.raises(WeightsError, match=r"weights file '.*missing.pt' does not exist"):
        load_weights(nn.Linear(2, 2), tmp_path / "missing.pt")
    path = tmp_path / "w.safetensors"
    write_safetensors(ResNet18(10).state_dict(), path)
    with pytest.raises(WeightsError, match=r"tensor 'fc.weight' has shape \(10, 512\) in the file "
                                           r"but \(3, 512\) in the model"):  # fmt: skip
        load_weights(ResNet18(3), path)
    load_weights(ResNet18(3), path, skip=["fc"])  # a new classifier: keep its init
    with pytest.raises(WeightsError, match="tensor 'weight' is missing from the file"):
        load_weights(nn.Linear(2, 2), path)
    small = tmp_path / "small.safetensors"
    write_safetensors({**nn.Linear(2, 2).state_dict(), "extra": torch.zeros(1)}, small)
    with pytest.raises(WeightsError, match="tensor 'extra' is not in the model"):
        load_weights(nn.Linear(2, 2), small)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x05")
    with pytest.raises(WeightsError, match=r"expected a safetensors file; found unrecognised"):
        read_weights(bad)
    bad.write_bytes(b"\x10" + b"\x00" * 7 + b"{not json}")
    with pytest.raises(WeightsError, match="not a valid safetensors file"):
        read_weights(bad)
    pickled = tmp_path / "list.pt"
    torch.save([1, 2], pickled)
    with pytest.raises(WeightsError, match="must hold a state dict"):
        read_weights(pickled)
