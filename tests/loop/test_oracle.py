"""Oracles: dataset labels, fixed noisy labels, and a callback (human) oracle."""

from __future__ import annotations

import pytest
import torch

from batchbald.errors import InvalidInputError
from batchbald.loop import CallbackOracle, DatasetOracle, NoisyOracle, Oracle

LABELS = torch.arange(1000) % 10


def test_dataset_oracle_returns_the_labels():
    oracle = DatasetOracle(LABELS)
    assert isinstance(oracle, Oracle)
    assert oracle(torch.tensor([3, 17, 999])).tolist() == [3, 7, 9]
    assert oracle(torch.tensor([], dtype=torch.long)).tolist() == []


def test_noisy_oracle_is_fixed_per_index_and_flips_the_rate():
    oracle = NoisyOracle(
        LABELS, num_classes=10, rate=0.3, generator=torch.Generator().manual_seed(0)
    )
    everything = oracle(torch.arange(1000))
    wrong = everything != LABELS
    # Binomial(1000, 0.3): mean 300, std ≈ 14.5; ±5 std = ±73.
    assert 227 < int(wrong.sum()) < 373
    # Same index, same answer, whatever the order or batch of the query.
    permutation = torch.randperm(1000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(oracle(permutation), everything[permutation])
    assert torch.equal(oracle(torch.tensor([5, 5])), everything[[5, 5]])


def test_noisy_oracle_reproducible_and_rate_extremes():
    make = lambda rate, seed: NoisyOracle(  # noqa: E731
        LABELS, num_classes=10, rate=rate, generator=torch.Generator().manual_seed(seed)
    )
    assert torch.equal(make(0.2, 3).labels_N, make(0.2, 3).labels_N)
    assert torch.equal(make(0.0, 3).labels_N, LABELS)
    assert (make(1.0, 3).labels_N != LABELS).all()
    assert torch.equal(make(0.2, 3).true_labels_N, LABELS)


def test_noisy_oracle_validates():
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(InvalidInputError, match="rate"):
        NoisyOracle(LABELS, num_classes=10, rate=1.5, generator=generator)


def test_callback_oracle_validates_answers():
    asked = []

    def human(indices):
        asked.append(indices)
        return [index % 3 for index in indices]

    oracle = CallbackOracle(human, num_classes=3)
    assert oracle(torch.tensor([4, 5])).tolist() == [1, 2]
    assert asked == [[4, 5]]
    with pytest.raises(InvalidInputError, match="must return 2 integer labels"):
        CallbackOracle(lambda indices: [0], num_classes=3)(torch.tensor([4, 5]))
    with pytest.raises(
        InvalidInputError,
        match=r"labels must lie in \[0, 3\) or be CANNOT_LABEL \(-1\); got values from 0 to 7",
    ):
        CallbackOracle(lambda indices: [0, 7], num_classes=3)(torch.tensor([4, 5]))
    # -1 is "cannot label this point" (e.g. an out-of-distribution image).
    answer = CallbackOracle(lambda indices: [-1, 2], num_classes=3)(torch.tensor([4, 5]))
    assert answer.tolist() == [-1, 2]


def test_bad_indices():
    oracle = DatasetOracle(LABELS)
    with pytest.raises(InvalidInputError, match=r"must lie in \[0, 1000\)"):
        oracle(torch.tensor([1000]))
    with pytest.raises(InvalidInputError, match="1-D integer tensor"):
        oracle(torch.tensor([1.0]))
    with pytest.raises(InvalidInputError, match="labels_N must be a 1-D integer tensor"):
        DatasetOracle(torch.zeros(3, 2, dtype=torch.long))
