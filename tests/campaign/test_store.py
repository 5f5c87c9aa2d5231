"""The label history and rounds on SQLite and PostgreSQL: record, skip, undo, idempotency."""

from __future__ import annotations

import pytest

from batchbald.campaign import InvalidLabelError, UnknownItemError
from batchbald.campaign.rounds import current_round


@pytest.fixture
def proposed(campaign):
    campaign.propose()
    return campaign


def test_record_and_labels(proposed):
    ids = proposed.current_round().item_ids
    assert len(ids) == 4
    proposed.record(ids[0], "a", "ann")
    proposed.record(ids[1], "b", "bob")
    assert proposed.labels() == {ids[0]: "a", ids[1]: "b"}
    progress = proposed.progress()
    assert (progress["done"], progress["total"], progress["remaining"]) == (2, 4, ids[2:])
    assert progress["per_annotator"] == {"ann": 1, "bob": 1}


def test_correction_is_a_new_row_and_labels_follow_it(proposed):
    item = proposed.current_round().item_ids[0]
    first = proposed.record(item, "a", "ann")
    second = proposed.record(item, "c", "ann")
    assert second.id > first.id
    assert proposed.labels() == {item: "c"}
    assert [e.label for e in proposed.history()] == ["a", "c"]


def test_same_submission_twice_is_recorded_once(proposed):
    item = proposed.current_round().item_ids[0]
    first = proposed.record(item, "a", "ann")
    assert proposed.record(item, "a", "ann") == first
    assert proposed.record(item, "b", "ann", request_id="r1") == proposed.record(
        item, "b", "ann", request_id="r1"
    )
    assert len(proposed.history()) == 2


def test_request_id_reused_for_another_answer_is_refused(proposed):
    item = proposed.current_round().item_ids[0]
    proposed.record(item, "a", "ann", request_id="r1")
    with pytest.raises(InvalidLabelError, match="request_id 'r1' was already used"):
        proposed.record(item, "b", "ann", request_id="r1")


def test_undo_cancels_the_latest_answer_and_repeats(proposed):
    ids = proposed.current_round().item_ids
    proposed.record(ids[0], "a", "ann")
    proposed.skip(ids[1], "ann")
    undo = proposed.undo("ann")
    assert (undo.kind, undo.item_id) == ("undo", ids[1])
    assert proposed.progress()["done"] == 1
    assert proposed.undo("ann").item_id == ids[0]
    assert proposed.undo("ann") is None
    assert proposed.labels() == {}
    assert [e.kind for e in proposed.history()] == ["label", "skip", "undo", "undo"]


def test_skip_counts_as_answered_but_not_labelled(proposed):
    item = proposed.current_round().item_ids[0]
    proposed.skip(item, "ann")
    assert proposed.labels() == {}
    assert proposed.progress()["skipped"] == 1


@pytest.mark.parametrize(
    ("item", "label", "annotator", "error", "message"),
    [
        (None, "z", "ann", InvalidLabelError, "label must be one of a, b, c; got 'z'"),
        (None, "a", "bad name", InvalidLabelError, "annotator must be 1-64 characters"),
        (None, "a", "", InvalidLabelError, "annotator must be"),
        ("row-99999999", "a", "ann", UnknownItemError, "item_id must name an item in the pool"),
        ("../../etc/passwd", "a", "ann", UnknownItemError, "must name an item in the pool"),
        ("not-in-round", "a", "ann", UnknownItemError, "must be an item of the current round"),
    ],
)
def test_bad_input_is_a_named_error(proposed, item, label, annotator, error, message):
    ids = proposed.current_round().item_ids
    if item is None:
        item = ids[0]
    elif item == "not-in-round":
        item = next(f"row-{r:08d}" for r in range(40) if f"row-{r:08d}" not in ids)
    with pytest.raises(error, match=message.replace("(", r"\(")):
        proposed.record(item, label, annotator)
    assert proposed.history() == []


def test_nothing_to_label_before_the_first_round(campaign):
    with pytest.raises(UnknownItemError, match="nothing proposed yet"):
        campaign.record("row-00000000", "a", "ann")


def test_disagreements_and_assignments(proposed):
    item = proposed.current_round().item_ids[0]
    proposed.assign(item, ["ann", "bob", "ann"])
    assert proposed.progress()["assigned"] == {item: ["ann", "bob"]}
    proposed.record(item, "a", "ann")
    proposed.record(item, "b", "bob")
    assert proposed.disagreements() == [{"item_id": item, "labels": {"ann": "a", "bob": "b"}}]
    proposed.record(item, "a", "bob")
    assert proposed.disagreements() == []


def test_second_round_trains_on_the_labels_and_keeps_the_first(proposed, pool):
    _, truth = pool
    first = proposed.current_round()
    for item in first.item_ids:
        proposed.record(item, "abc"[truth[int(item[4:])]], "ann")
    second = proposed.propose()
    assert second.number == 2 and second.model_version == 1
    assert not set(second.item_ids) & set(first.item_ids)
    with proposed.store.begin() as connection:
        assert current_round(connection) == second
    assert len(proposed.labels()) == 4
    assert proposed.status()["model"]["num_labels"] == 4
    with pytest.raises(UnknownItemError, match="current round"):
        proposed.record(first.item_ids[0], "a", "ann")


def test_export_writes_the_current_labels(proposed, tmp_path):
    ids = proposed.current_round().item_ids
    proposed.record(ids[0], "a", "ann")
    proposed.record(ids[1], "b", "ann")
    proposed.record(ids[1], "c", "bob")
    assert proposed.export(tmp_path / "out" / "labels.csv") == 2
    lines = (tmp_path / "out" / "labels.csv").read_text().splitlines()
    assert lines[0] == "item_id,label,annotator,labelled_at"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        [ids[0], "a", "ann"],
        [ids[1], "c", "bob"],
    ]
