"""Initial labelled sets, random validation sets and make_split."""

from __future__ import annotations

import pytest
import torch

from batchbald.data import (
    PAPER_MNIST_INITIAL_INDICES,
    balanced_initial_indices,
    make_split,
    random_validation_indices,
)
from batchbald.errors import InvalidInputError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_paper_indices_match_the_protocol() -> None:
    # docs/protocol.md §1, in the paper's order.
    assert PAPER_MNIST_INITIAL_INDICES == (
        38043, 40091, 17418, 2094, 39879, 3133, 5011, 40683, 54379, 24287,
        9849, 59305, 39508, 39356, 8758, 52579, 13655, 7636, 21562, 41329,
    )  # fmt: skip


def test_balanced_picks_per_class_and_respects_exclusions() -> None:
    labels = torch.arange(100) % 5
    labels[:5] = -1  # OOD rows are never picked
    exclude = torch.arange(5, 30)
    picked = balanced_initial_indices(labels, 3, generator=gen(), exclude=exclude)
    assert labels[picked].tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3
    assert len(set(picked.tolist())) == 15 and picked.min() >= 30
    assert torch.equal(
        picked, balanced_initial_indices(labels, 3, generator=gen(), exclude=exclude)
    )
    assert not torch.equal(
        picked, balanced_initial_indices(labels, 3, generator=gen(1), exclude=exclude)
    )


def test_balanced_errors() -> None:
    labels = torch.tensor([0, 0, 1, 2, 2])
    with pytest.raises(
        InvalidInputError,
        match=r"class 1 has 1 candidate points \(after "
        r"exclusions\); balanced_initial_indices needs per_class = 2",
    ):
        balanced_initial_indices(labels, 2, generator=gen())
    with pytest.raises(InvalidInputError, match="class 3 has 0 candidate points"):
        balanced_initial_indices(labels, 1, generator=gen(), num_classes=4)
    with pytest.raises(InvalidInputError, match="labels must be a 1-D integer tensor"):
        balanced_initial_indices(torch.zeros(3, 2, dtype=torch.long), 1, generator=gen())


def test_random_validation() -> None:
    candidates = torch.arange(10, 1000, 3)
    chosen = random_validation_indices(candidates, 50, generator=gen())
    assert len(set(chosen.tolist())) == 50 and set(chosen.tolist()) <= set(candidates.tolist())
    assert chosen.tolist() == sorted(chosen.tolist())
    assert torch.equal(chosen, random_validation_indices(candidates, 50, generator=gen()))
    with pytest.raises(
        InvalidInputError,
        match=r"size must be at most the number of candidates "
        r"\(330\); got 331",
    ):
        random_validation_indices(candidates, 331, generator=gen())


def test_validation_is_not_class_balanced() -> None:
    # 90% of candidates are class 0: a random draw of 200 is dominated by class 0.
    labels = (torch.arange(1000) % 10 == 0).long()
    chosen = random_validation_indices(torch.arange(1000), 200, generator=gen())
    assert (labels[chosen] == 0).sum() > 150


def test_make_split_paper_mnist() -> None:
    labels = torch.arange(60_000) % 10
    split = make_split(labels, initial="paper_mnist", validation_size=1024, generator=gen())
    assert split.labelled_indices.tolist() == list(PAPER_MNIST_INITIAL_INDICES)
    validation = set(split.validation_indices.tolist())
    assert len(validation) == 1024 and not validation & set(PAPER_MNIST_INITIAL_INDICES)
    assert split.pool_size == 60_000 - 1044


def test_make_split_paper_on_repeated_size_and_too_small() -> None:
    split = make_split(
        torch.zeros(180_000, dtype=torch.long), validation_size=3072, generator=gen()
    )
    assert split.pool_size == 180_000 - 20 - 3072
    with pytest.raises(
        InvalidInputError,
        match=r"initial='paper_mnist' indexes the 60,000-point "
        r"MNIST training set .* got a dataset of 1000 points",
    ):
        make_split(torch.zeros(1000, dtype=torch.long), generator=gen())


def test_make_split_balanced_none_and_ood() -> None:
    labels = torch.arange(200) % 4
    labels[150:] = -1  # OOD rows: in the pool, never initial or validation
    split = make_split(
        labels, initial="balanced", per_class=2, validation_size=100, generator=gen()
    )
    assert torch.bincount(labels[split.labelled_indices]).tolist() == [2, 2, 2, 2]
    assert (labels[split.validation_indices] >= 0).all()
    assert set(range(150, 200)) <= set(split.pool_indices.tolist())
    cold = make_split(labels, initial="none", validation_size=10, generator=gen())
    assert cold.num_labelled == 0 and cold.pool_size == 190
    again = make_split(
        labels, initial="balanced", per_class=2, validation_size=100, generator=gen()
    )
    assert again.state_dict() == split.state_dict()


def test_make_split_unknown_initial() -> None:
    with pytest.raises(
        InvalidInputError,
        match="initial must be one of 'paper_mnist', 'balanced', 'none'; got 'random'",
    ):
        make_split(torch.zeros(5, dtype=torch.long), initial="random", generator=gen())  # type: ignore[arg-type]
