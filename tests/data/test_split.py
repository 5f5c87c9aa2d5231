"""ActiveLearningData: index spaces, acquisition errors, state round trips, invariants."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from batchbald.data import ActiveLearningData
from batchbald.errors import InvalidInputError


def test_index_spaces() -> None:
    split = ActiveLearningData(10, labelled_indices=[7, 2], validation_indices=[9, 0])
    assert split.labelled_indices.tolist() == [7, 2]  # acquisition order
    assert split.validation_indices.tolist() == [0, 9]
    assert split.pool_indices.tolist() == [1, 3, 4, 5, 6, 8]
    assert (split.num_labelled, split.pool_size, split.dataset_size) == (2, 6, 10)
    acquired = split.acquire(torch.tensor([5, 0]))  # positions -> dataset indices 8 and 1
    assert acquired.tolist() == [8, 1] and acquired.dtype == torch.int64
    assert split.labelled_indices.tolist() == [7, 2, 8, 1]
    assert split.pool_indices.tolist() == [3, 4, 5, 6]
    assert split.acquire_dataset_indices([5]).tolist() == [5]
    assert split.pool_indices.tolist() == [3, 4, 6]
    assert repr(split) == "ActiveLearningData(dataset_size=10, labelled=5, pool=3, validation=2)"


def test_returned_tensors_are_copies() -> None:
    split = ActiveLearningData(4)
    split.pool_indices[0] = 3
    split.labelled_indices.fill_(0)
    assert split.pool_indices.tolist() == [0, 1, 2, 3]


def test_acquire_empty_is_a_no_op() -> None:
    split = ActiveLearningData(3)
    assert split.acquire([]).tolist() == [] and split.pool_size == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda s: s.acquire_dataset_indices([3, 1]),
            "cannot acquire dataset index 1: it is already labelled",
        ),
        (
            lambda s: s.acquire_dataset_indices([9]),
            "cannot acquire dataset index 9: it is in the validation set",
        ),
        (
            lambda s: s.acquire_dataset_indices([4, 4]),
            "dataset_indices must not repeat an index; 4 appears 2 times",
        ),
        (
            lambda s: s.acquire([2, 2]),
            r"pool_positions must not repeat an index; 2 \(dataset index 3\) appears 2 times",
        ),
        (lambda s: s.acquire([7]), r"pool_positions must lie in \[0, 7\); got the index 7"),
        (lambda s: s.acquire([-1]), r"pool_positions must lie in \[0, 7\); got the index -1"),
        (lambda s: s.acquire_dataset_indices([10]), r"dataset_indices must lie in \[0, 10\)"),
        (lambda s: s.acquire([0.5]), "pool_positions must be a 1-D sequence of integer indices"),
    ],
)
def test_bad_acquisitions_name_the_index_and_change_nothing(call, message: str) -> None:
    split = ActiveLearningData(10, labelled_indices=[1], validation_indices=[9, 8])
    before = split.state_dict()
    with pytest.raises(InvalidInputError, match=message):
        call(split)
    assert split.state_dict() == before


def test_constructor_validation() -> None:
    with pytest.raises(
        InvalidInputError, match="cannot acquire dataset index 2: it is in the validation set"
    ):
        ActiveLearningData(5, labelled_indices=[2], validation_indices=[2])
    with pytest.raises(InvalidInputError, match="validation_indices must not repeat an index; 3"):
        ActiveLearningData(5, validation_indices=[3, 3])
    with pytest.raises(InvalidInputError, match="dataset_size must be an integer ≥ 0; got -1"):
        ActiveLearningData(-1)


def test_state_dict_round_trips_through_json() -> None:
    split = ActiveLearningData(20, labelled_indices=[5, 3], validation_indices=[0, 19])
    split.acquire([4, 1])
    state = json.loads(json.dumps(split.state_dict()))
    restored = ActiveLearningData.from_state_dict(state)
    assert restored.labelled_indices.tolist() == split.labelled_indices.tolist()
    assert torch.equal(restored.pool_indices, split.pool_indices)
    assert torch.equal(restored.validation_indices, split.validation_indices)


def test_from_state_dict_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"missing \['validation_indices'\]"):
        ActiveLearningData.from_state_dict({"dataset_size": 3, "labelled_indices": []})
    with pytest.raises(InvalidInputError, match="state must be a mapping"):
        ActiveLearningData.from_state_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="state version must be 1; got 7"):
        ActiveLearningData.from_state_dict(
            {"version": 7, "dataset_size": 3, "labelled_indices": [], "validation_indices": []}
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.data())
def test_partition_invariant(size: int, data: st.DataObject) -> None:
    validation = data.draw(st.sets(st.integers(0, size - 1), max_size=size // 3))
    split = ActiveLearningData(size, validation_indices=sorted(validation))
    acquired: list[int] = []
    for _ in range(data.draw(st.integers(0, 5))):
        if split.pool_size == 0:
            break
        positions = data.draw(st.sets(st.integers(0, split.pool_size - 1), min_size=1, max_size=4))
        pool = split.pool_indices
        expected = [int(pool[p]) for p in positions]
        assert split.acquire(list(positions)).tolist() == expected
        acquired += expected
    labelled, pool = split.labelled_indices.tolist(), split.pool_indices.tolist()
    assert labelled == acquired
    assert sorted(labelled + pool + sorted(validation)) == list(range(size))
    assert pool == sorted(pool)
