"""Repeated-MNIST layout, noise and reproducibility (docs/protocol.md §1)."""

from __future__ import annotations

import pytest
import torch

from batchbald.data import ImageData, noisy_oracle, repeated, repeated_source_index
from batchbald.errors import InvalidInputError


def base(n: int = 50) -> ImageData:
    g = torch.Generator().manual_seed(123)
    return ImageData(torch.randn(n, 1, 28, 28, generator=g), torch.arange(n) % 10, 10)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_layout_copy_j_of_item_i_is_row_j_n_plus_i() -> None:
    data = base()
    rep = repeated(data, 3, noise_std=0.0, generator=gen())
    assert len(rep) == 150
    for j in range(3):
        for i in (0, 17, 49):
            assert torch.equal(rep.inputs[j * 50 + i], data.inputs[i])
            assert rep.labels[j * 50 + i] == data.labels[i]
    assert rep.source_index.tolist() == repeated_source_index(50, 3).tolist()
    assert not rep.noise_std.any()


def test_every_copy_gets_its_own_fixed_noise() -> None:
    data = base()
    rep = repeated(data, 2, generator=gen())
    noise = (rep.inputs - data.inputs.repeat(2, 1, 1, 1)).view(2, 50, -1)
    # 39,200 draws per copy: the sample std is within 0.1 · 5 / sqrt(2 · 39,200) ≈ 0.0018.
    for copy in range(2):
        assert abs(noise[copy].std().item() - 0.1) < 0.002
        assert abs(noise[copy].mean().item()) < 0.002
    assert not torch.allclose(noise[0], noise[1])  # different per copy
    assert rep.noise_std.tolist() == pytest.approx([0.1] * 100)


def test_seeded_reproducibility() -> None:
    data = base()
    first = repeated(data, 3, generator=gen(7))
    assert torch.equal(first.inputs, repeated(data, 3, generator=gen(7)).inputs)
    assert not torch.equal(first.inputs, repeated(data, 3, generator=gen(8)).inputs)


def test_input_is_not_modified() -> None:
    data = base()
    before = data.inputs.clone()
    repeated(data, 2, generator=gen())
    assert torch.equal(data.inputs, before)


def test_metadata_composes() -> None:
    data = base().subset(torch.tensor([9, 3]))
    rep = repeated(repeated(data, 2, generator=gen()), 2, noise_std=0.2, generator=gen())
    assert rep.source_index.tolist() == [9, 3] * 4
    assert rep.noise_std.tolist() == pytest.approx([(0.1**2 + 0.2**2) ** 0.5] * 8)


def test_noisy_oracle_before_or_after_repetition() -> None:
    data = base(200)
    before = repeated(noisy_oracle(data, rate=0.5, generator=gen()), 2, generator=gen())
    assert torch.equal(before.oracle_labels[:200], before.oracle_labels[200:])
    after = noisy_oracle(repeated(data, 2, generator=gen()), rate=0.5, generator=gen())
    assert not torch.equal(after.oracle_labels[:200], after.oracle_labels[200:])
    assert torch.equal(after.labels[:200], data.labels)  # the truth is untouched


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"copies": 0}, "copies must be an integer ≥ 1; got 0"),
        ({"copies": 2.0}, "copies must be an integer ≥ 1; got 2.0"),
        ({"copies": 2, "noise_std": -0.1}, r"noise_std must be a real number in \[0, inf\)"),
        ({"copies": 2, "generator": 3}, "generator must be a torch.Generator or None; got int"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    kwargs.setdefault("generator", gen())
    with pytest.raises(InvalidInputError, match=message):
        repeated(base(), **kwargs)
