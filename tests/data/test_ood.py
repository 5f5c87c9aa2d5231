"""Out-of-distribution contamination and what the oracle answers for it."""

from __future__ import annotations

import pytest
import torch

from batchbald.data import (
    NO_CLASS,
    ImageData,
    concatenate,
    noisy_oracle,
    ood_contamination,
    repeated,
)
from batchbald.errors import InvalidInputError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def in_dist(n: int = 90) -> ImageData:
    return ImageData(torch.zeros(n, 1, 2, 2), torch.arange(n) % 3, 3, ("a", "b", "c"))


def other(n: int = 40) -> ImageData:
    inputs = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return ImageData(inputs, torch.full((n,), 9), 10)


def test_rows_are_appended_and_marked() -> None:
    mixed = ood_contamination(in_dist(), other(), fraction=0.1, generator=gen())
    # f = 0.1 of the result: M = round(0.1 · 90 / 0.9) = 10.
    assert len(mixed) == 100 and mixed.num_classes == 3 and mixed.class_names == ("a", "b", "c")
    assert not mixed.is_ood[:90].any() and mixed.is_ood[90:].all()
    assert (mixed.labels[90:] == NO_CLASS).all() and (mixed.oracle_labels[90:] == -1).all()
    assert torch.equal(mixed.labels[:90], in_dist().labels)
    # source_index of OOD rows indexes the OOD dataset, whose row r holds the value r.
    rows = mixed.source_index[90:]
    assert len(set(rows.tolist())) == 10
    assert torch.equal(mixed.inputs[90:, 0, 0, 0], rows.float())


def test_seeded() -> None:
    first = ood_contamination(in_dist(), other(), count=5, generator=gen(1))
    again = ood_contamination(in_dist(), other(), count=5, generator=gen(1))
    assert torch.equal(first.source_index, again.source_index)


@pytest.mark.parametrize(("ood_label", "expected"), [(2, {2}), (0, {0})])
def test_fixed_ood_label(ood_label: int, expected: set) -> None:
    mixed = ood_contamination(in_dist(), other(), count=7, ood_label=ood_label, generator=gen())
    assert set(mixed.oracle_labels[90:].tolist()) == expected


def test_random_ood_label_is_fixed_per_index() -> None:
    mixed = ood_contamination(in_dist(), other(), count=40, ood_label="random", generator=gen())
    answers = mixed.oracle_labels[90:]
    assert set(answers.tolist()) == {0, 1, 2}
    again = ood_contamination(in_dist(), other(), count=40, ood_label="random", generator=gen())
    assert torch.equal(answers, again.oracle_labels[90:])


def test_unlabellable_points_never_reach_training() -> None:
    mixed = ood_contamination(in_dist(), other(), count=5, generator=gen())
    view = mixed.oracle_view(torch.tensor([0, 91, 1, 92]))
    assert view.source_index.tolist() == [0, 1] and not view.is_ood.any()


def test_composes_with_repetition_and_label_noise() -> None:
    mixed = ood_contamination(in_dist(30), other(), count=10, generator=gen())
    rep = repeated(mixed, 2, generator=gen())
    assert rep.is_ood.tolist() == [False] * 30 + [True] * 10 + [False] * 30 + [True] * 10
    noisy = noisy_oracle(rep, rate=1.0, generator=gen())
    assert (noisy.oracle_labels[rep.is_ood] == NO_CLASS).all()  # stays unlabellable
    assert (noisy.oracle_labels[~rep.is_ood] != rep.labels[~rep.is_ood]).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of fraction and count; got fraction=None, count=None"),
        ({"fraction": 0.1, "count": 3}, "give exactly one of fraction and count"),
        ({"fraction": 1.0}, r"fraction must be a real number in \[0, 1\); got 1.0"),
        ({"count": 41}, "needs 41 OOD rows but ood has only 40"),
        (
            {"count": 1, "ood_label": 3},
            r"ood_label must be CANNOT_LABEL \(-1\), a class in \[0, 3\)",
        ),
        ({"count": 1, "ood_label": "x"}, "or 'random'; got 'x'"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ood_contamination(in_dist(), other(), generator=gen(), **kwargs)


def test_shape_mismatch() -> None:
    wrong = ImageData(torch.zeros(5, 1, 3, 3), torch.zeros(5, dtype=torch.long), 2)
    with pytest.raises(
        InvalidInputError, match=r"same shape per row as data, \(1, 2, 2\); got \(1, 3, 3\)"
    ):
        ood_contamination(in_dist(), wrong, count=1, generator=gen())


def test_concatenate_checks() -> None:
    with pytest.raises(InvalidInputError, match="at least one ImageData"):
        concatenate([])
    with pytest.raises(InvalidInputError, match="equal num_classes and input shape"):
        concatenate([in_dist(), other()])
    both = concatenate([in_dist(3), in_dist(2)])
    assert both.source_index.tolist() == [0, 1, 2, 0, 1]
