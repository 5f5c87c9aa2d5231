"""The noisy oracle: symmetric and class-conditional label flips, fixed per index."""

from __future__ import annotations

import pytest
import torch

from batchbald.data import ImageData, noisy_labels, noisy_oracle, symmetric_transition_matrix
from batchbald.errors import InvalidInputError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_extremes() -> None:
    labels = torch.arange(30) % 3
    assert torch.equal(noisy_labels(labels, num_classes=3, rate=0.0, generator=gen()), labels)
    flipped = noisy_labels(labels, num_classes=3, rate=1.0, generator=gen())
    assert (flipped != labels).all()


def test_symmetric_rate_and_uniform_wrong_answers() -> None:
    n, num_classes, rate = 40_000, 5, 0.3
    labels = torch.arange(n) % num_classes
    answers = noisy_labels(labels, num_classes=num_classes, rate=rate, generator=gen(3))
    wrong = answers != labels
    # Binomial: std of the observed rate = sqrt(0.3·0.7/40,000) ≈ 0.0023; allow 5σ.
    assert abs(wrong.float().mean().item() - rate) < 0.0115
    # Wrong answers for true class 0 are uniform over classes 1..4: each ≈ 1/4 of ~2,400 draws,
    # std ≈ sqrt(0.25·0.75/2,400) ≈ 0.0088; allow 5σ.
    offsets = answers[wrong & (labels == 0)]
    shares = torch.bincount(offsets, minlength=5)[1:].float() / offsets.numel()
    assert (shares - 0.25).abs().max() < 0.045


def test_class_conditional_matches_the_matrix() -> None:
    matrix = torch.tensor([[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.1, 0.2, 0.7]], dtype=torch.float64)
    labels = torch.arange(30_000) % 3
    answers = noisy_labels(labels, num_classes=3, transition_matrix=matrix, generator=gen())
    for true in range(3):
        counts = torch.bincount(answers[labels == true], minlength=3).double()
        # 10,000 draws per row: std ≤ sqrt(0.25/10,000) = 0.005; allow 5σ.
        torch.testing.assert_close(counts / counts.sum(), matrix[true], atol=0.025, rtol=0)
    assert (answers[labels == 1] == 1).all()  # zero-probability answers never appear


def test_fixed_per_index_and_seeded() -> None:
    labels = torch.arange(1000) % 10
    first = noisy_labels(labels, num_classes=10, rate=0.2, generator=gen(1))
    assert torch.equal(first, noisy_labels(labels, num_classes=10, rate=0.2, generator=gen(1)))
    assert not torch.equal(first, noisy_labels(labels, num_classes=10, rate=0.2, generator=gen(2)))


def test_cannot_label_passes_through() -> None:
    labels = torch.tensor([-1, 0, -1, 1])
    assert noisy_labels(labels, num_classes=2, rate=1.0, generator=gen()).tolist() == [-1, 1, -1, 0]


def test_symmetric_matrix_rows_sum_to_one() -> None:
    matrix = symmetric_transition_matrix(10, 0.37)
    torch.testing.assert_close(matrix.sum(dim=1), torch.ones(10, dtype=torch.float64))
    assert matrix[0, 0].item() == pytest.approx(0.63)


def test_noisy_oracle_keeps_the_truth() -> None:
    data = ImageData(torch.zeros(100, 1, 1, 1), torch.arange(100) % 4, 4)
    noisy = noisy_oracle(data, rate=0.5, generator=gen())
    assert torch.equal(noisy.labels, data.labels)
    assert 20 < int((noisy.oracle_labels != data.labels).sum()) < 80
    assert "wrong_oracle_answers=" in repr(noisy)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of rate .* or transition_matrix"),
        ({"rate": 0.1, "transition_matrix": torch.eye(3)}, "give exactly one of rate"),
        ({"rate": 1.5}, r"rate must be a real number in \[0, 1\]; got 1.5"),
        ({"transition_matrix": torch.eye(2)}, r"transition_matrix must be \[C, C\] = \[3, 3\]"),
        (
            {"transition_matrix": torch.full((3, 3), 0.5)},
            "rows sum to 1.*largest row-sum error is 0.5",
        ),
        ({"transition_matrix": -torch.eye(3) + 2 * torch.eye(3).roll(1, 0)}, "probabilities ≥ 0"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        noisy_labels(torch.tensor([0, 1, 2]), num_classes=3, generator=gen(), **kwargs)


def test_bad_labels() -> None:
    with pytest.raises(InvalidInputError, match=r"labels must lie in \[0, 3\).*got the label 3"):
        noisy_labels(torch.tensor([0, 3]), num_classes=3, rate=0.1, generator=gen())
    with pytest.raises(InvalidInputError, match="labels must be a 1-D integer tensor"):
        noisy_labels(torch.tensor([0.0, 1.0]), num_classes=3, rate=0.1, generator=gen())
