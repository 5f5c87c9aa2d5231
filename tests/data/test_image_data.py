"""ImageData's per-index metadata: defaults, validation, subset and the oracle view."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from batchbald.data import NO_CLASS, ImageData
from batchbald.errors import InvalidInputError


def small(n: int = 5) -> ImageData:
    return ImageData(
        torch.arange(n * 4, dtype=torch.float32).view(n, 1, 2, 2), torch.arange(n) % 3, 3
    )


def test_defaults_describe_clean_data() -> None:
    data = small()
    assert data.source_index.tolist() == [0, 1, 2, 3, 4]
    assert data.is_ood.dtype == torch.bool and not data.is_ood.any()
    assert torch.equal(data.oracle_labels, data.labels)
    assert data.noise_std.dtype == torch.float32 and not data.noise_std.any()
    assert repr(data) == (
        "ImageData(N=5, input_shape=(1, 2, 2), num_classes=3, ood=0, "
        "wrong_oracle_answers=0, max_noise_std=0)"
    )


def test_positional_construction_still_works() -> None:
    data = ImageData(torch.zeros(2, 1, 2, 2), torch.tensor([0, 1]), 2, ("no", "yes"))
    assert data.class_names == ("no", "yes") and len(data) == 2


def test_subset_carries_metadata() -> None:
    data = dataclasses.replace(
        small(),
        oracle_labels=torch.tensor([1, 1, 1, -1, 0]),
        noise_std=torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4]),
    )
    part = data.subset([4, 3, 1])
    assert part.source_index.tolist() == [4, 3, 1]
    assert part.oracle_labels.tolist() == [0, -1, 1]
    assert part.noise_std.tolist() == pytest.approx([0.4, 0.3, 0.1])
    assert torch.equal(part.inputs, data.inputs[[4, 3, 1]])
    assert part.subset([0]).source_index.tolist() == [4]  # composes with earlier subsets


def test_oracle_view_uses_answers_and_drops_unlabellable() -> None:
    data = dataclasses.replace(small(), oracle_labels=torch.tensor([2, NO_CLASS, 2, 0, 1]))
    view = data.oracle_view(torch.tensor([1, 0, 3]))
    assert view.labels.tolist() == [2, 0] and view.source_index.tolist() == [0, 3]
    assert torch.equal(view.inputs, data.inputs[[0, 3]])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("source_index", torch.arange(4), r"ImageData.source_index must have shape \[N\] = \[5\]"),
        (
            "is_ood",
            torch.zeros(5, 1),
            r"ImageData.is_ood must have shape \[N\] = \[5\]; got \(5, 1\)",
        ),
        ("oracle_labels", torch.zeros(5), r"ImageData.oracle_labels must be torch.int64"),
    ],
)
def test_bad_metadata_is_rejected(field: str, value: torch.Tensor, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        dataclasses.replace(small(), **{field: value})
