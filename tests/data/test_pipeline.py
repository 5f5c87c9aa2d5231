"""apply_flaws: config-driven, reproducible composition of the flaws."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from batchbald.data import ImageData, apply_flaws, register_idx_dataset
from batchbald.errors import ConfigError, UnknownNameError

from .conftest import tiny_arrays, unique_name, write_dataset


def data(n: int = 60) -> ImageData:
    g = torch.Generator().manual_seed(0)
    return ImageData(torch.randn(n, 1, 28, 28, generator=g), torch.arange(n) % 3, 3)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


FLAWS = [
    {"name": "class_imbalance", "keep_fractions": {"2": 0.5}},
    {"name": "repeated", "copies": 2},
    {"name": "noisy_oracle", "rate": 0.2},
    {"name": "heteroscedastic_noise", "noise_stds": [0.0, 0.5]},
]


def test_sequence_is_reproducible() -> None:
    out = apply_flaws(data(), FLAWS, generator=gen(1))
    assert len(out) == 2 * (20 + 20 + 10)
    again = apply_flaws(data(), FLAWS, generator=gen(1))
    assert torch.equal(out.inputs, again.inputs)
    assert torch.equal(out.oracle_labels, again.oracle_labels)
    other = apply_flaws(data(), FLAWS, generator=gen(2))
    assert not torch.equal(out.inputs, other.inputs)


def test_appending_a_flaw_keeps_the_earlier_ones() -> None:
    short = apply_flaws(data(), FLAWS[:2], generator=gen(1))
    longer = apply_flaws(data(), FLAWS[:3], generator=gen(1))
    assert torch.equal(short.inputs, longer.inputs)


def test_unknown_and_bad_flaws() -> None:
    with pytest.raises(
        UnknownNameError,
        match=r"flaws\[0\] has unknown name 'blur'; valid names: "
        "repeated, class_imbalance",
    ):
        apply_flaws(data(), [{"name": "blur"}], generator=gen())
    with pytest.raises(ConfigError, match=r"flaws\[1\] \(repeated\): .*unexpected keyword"):
        apply_flaws(data(), [FLAWS[0], {"name": "repeated", "copis": 2}], generator=gen())
    with pytest.raises(ConfigError, match=r"flaws\[0\] \(noisy_oracle\): rate must be"):
        apply_flaws(data(), [{"name": "noisy_oracle", "rate": 2}], generator=gen())


def test_ood_by_dataset_name_uses_the_target_normalisation(tmp_path: Path) -> None:
    arrays = tiny_arrays(num_train=30)
    write_dataset(tmp_path / "other", arrays)
    register_idx_dataset("other", num_classes=3, mean=0.9, std=0.01)
    target = unique_name()
    register_idx_dataset(target, num_classes=3, mean=0.5, std=0.5)
    flaw = {"name": "ood_contamination", "dataset": "other", "count": 30}
    out = apply_flaws(data(), [flaw], generator=gen(), dataset_name=target, data_dir=tmp_path)
    assert out.is_ood.sum() == 30 and len(out) == 90
    # Normalised with the target's (0.5, 0.5): every value lies in [-1, 1].
    assert out.inputs[60:].min() >= -1 and out.inputs[60:].max() <= 1
    order = out.source_index[60:]
    expected = torch.from_numpy(arrays["train_images"]).float()[order] / 255 * 2 - 1
    torch.testing.assert_close(out.inputs[60:, 0], expected)
    with pytest.raises(ConfigError, match="needs dataset_name"):
        apply_flaws(data(), [flaw], generator=gen(), data_dir=tmp_path)
