"""Class imbalance and heteroscedastic input noise."""

from __future__ import annotations

import pytest
import torch

from batchbald.data import (
    ImageData,
    class_imbalance,
    heteroscedastic_noise,
    long_tail_fractions,
    repeated,
)
from batchbald.errors import InvalidInputError


def data(n: int = 100, num_classes: int = 4) -> ImageData:
    return ImageData(torch.zeros(n, 1, 4, 4), torch.arange(n) % num_classes, num_classes)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_imbalance_keeps_exact_counts_in_order() -> None:
    out = class_imbalance(data(), [1.0, 0.5, 0.1, 0.0], generator=gen())
    assert torch.bincount(out.labels, minlength=4).tolist() == [25, 12, 2, 0]  # round(12.5) = 12
    assert out.source_index.tolist() == sorted(out.source_index.tolist())
    assert torch.equal(out.labels, out.source_index % 4)


def test_imbalance_mapping_with_toml_string_keys() -> None:
    out = class_imbalance(data(), {"2": 0.2}, generator=gen())
    assert torch.bincount(out.labels).tolist() == [25, 25, 5, 25]


def test_imbalance_is_seeded_and_keeps_ood_rows() -> None:
    base = data()
    labels = base.labels.clone()
    labels[:3] = -1
    base = ImageData(base.inputs, labels, 4)
    first = class_imbalance(base, [0.5] * 4, generator=gen(1))
    assert torch.equal(
        first.source_index, class_imbalance(base, [0.5] * 4, generator=gen(1)).source_index
    )
    assert not torch.equal(
        first.source_index, class_imbalance(base, [0.5] * 4, generator=gen(2)).source_index
    )
    assert first.source_index[:3].tolist() == [0, 1, 2]


def test_imbalance_after_repetition_points_to_original_rows() -> None:
    rep = repeated(data(20), 2, generator=gen())
    out = class_imbalance(rep, [1.0, 1.0, 1.0, 0.0], generator=gen())
    assert len(out) == 30 and set(out.source_index.tolist()) == {i for i in range(20) if i % 4 != 3}


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ([1.0, 1.0], r"keep_fractions must have one entry per class \(C = 4\); got 2"),
        ([1.0, 1.0, 1.5, 1.0], r"keep_fractions\[2\] must be a real number in \[0, 1\]; got 1.5"),
        ({7: 0.5}, r"keep_fractions keys must be classes in \[0, 4\); got \[7\]"),
        ({"x": 0.5}, "keep_fractions keys must be class indices; got 'x'"),
    ],
)
def test_imbalance_bad_fractions(fractions: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        class_imbalance(data(), fractions, generator=gen())  # type: ignore[arg-type]


def test_long_tail_fractions() -> None:
    assert long_tail_fractions(2, 10.0) == pytest.approx([1.0, 0.1])
    assert long_tail_fractions(4, 1.0) == [1.0] * 4
    with pytest.raises(InvalidInputError, match="imbalance_ratio must be a real number in"):
        long_tail_fractions(4, 0.5)


def test_heteroscedastic_explicit_scales() -> None:
    n = 3
    base = ImageData(torch.zeros(n, 1, 100, 100), torch.zeros(n, dtype=torch.long), 2)
    stds = torch.tensor([0.0, 0.5, 2.0])
    out = heteroscedastic_noise(base, stds, generator=gen())
    empirical = out.inputs.view(n, -1).std(dim=1)
    # 10,000 draws per row: relative error of the sample std ≈ 1/sqrt(2·10,000) = 0.7%; allow 4%.
    assert empirical[0] == 0
    assert empirical[1:].tolist() == pytest.approx([0.5, 2.0], rel=0.04)
    assert out.noise_std.tolist() == pytest.approx([0.0, 0.5, 2.0])
    assert torch.equal(out.labels, base.labels) and not base.inputs.any()


def test_heteroscedastic_range_is_seeded_and_adds_in_quadrature() -> None:
    rep = repeated(data(), 1, noise_std=0.3, generator=gen())
    out = heteroscedastic_noise(rep, (0.0, 0.4), generator=gen(5))
    scales = (out.noise_std.square() - 0.09).sqrt()
    assert scales.min() >= 0 and scales.max() <= 0.4 + 1e-6 and scales.std() > 0.05
    again = heteroscedastic_noise(rep, (0.0, 0.4), generator=gen(5))
    assert torch.equal(out.inputs, again.inputs)


@pytest.mark.parametrize(
    ("stds", "message"),
    [
        (
            torch.ones(3),
            r"noise_stds must be finite and ≥ 0 with shape \[N\] = \[100\]; got shape \(3,\)",
        ),
        (-torch.ones(100), r"noise_stds must be finite and ≥ 0"),
        ((0.5, 0.1), r"noise_stds high must be a real number in \[0.5, inf\); got 0.1"),
        ((0.1, 0.2, 0.3), r"noise_stds must be a tensor \[N\] or a \(low, high\) range"),
    ],
)
def test_heteroscedastic_bad_scales(stds: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        heteroscedastic_noise(data(), stds, generator=gen())  # type: ignore[arg-type]
