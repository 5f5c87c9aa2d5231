"""The label history: append-only events, and the current labels as a query over them.

An event is a ``label`` (a class), a ``skip`` (the annotator cannot or will not label the item)
or an ``undo`` (cancels one earlier label or skip, named in ``undoes``). An annotator's answer
for an item is their latest event that has not been undone; an item's current answer is the
latest such event of any annotator. Nothing is updated or deleted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from batchbald.campaign.schema import label_events
from batchbald.campaign.store import now

__all__ = [
    "Answer",
    "LabelEvent",
    "active_events",
    "all_events",
    "annotator_answers",
    "current_answers",
    "disagreements",
    "find_request",
    "insert_event",
    "label_counts",
]


@dataclass(frozen=True)
class LabelEvent:
    """One row of the label history.

    Attributes:
        id: increasing with time.
        item_id: the item.
        kind: "label", "skip" or "undo".
        label: the class (for an undo: the label or None of the event it cancels).
        annotator: who.
        created_at: UTC ISO time.
        round_number: the round that was current (None: imported from the source).
        model_version: the model that proposed the round.
        request_id: the client's idempotency key, if any.
        undoes: for an undo, the id of the cancelled event.
    """

    id: int
    item_id: str
    kind: str
    label: str | None
    annotator: str
    created_at: str
    round_number: int | None = None
    model_version: int | None = None
    request_id: str | None = None
    undoes: int | None = None

    @classmethod
    def from_row(cls, row: Any) -> LabelEvent:
        """From a ``label_events`` row."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Answer:
    """An item's current answer: the latest label or skip not undone.

    Attributes:
        item_id: the item.
        kind: "label" or "skip".
        label: the class (None for a skip).
        annotator: who answered.
        answered_at: UTC ISO time of the answer.
        round_number: the round it was given in (None: imported from the source).
        event_id: the answer's row in the label history (:meth:`Campaign.history`).
    """

    item_id: str
    kind: str
    label: str | None
    annotator: str
    answered_at: str
    round_number: int | None
    event_id: int

    @classmethod
    def from_event(cls, event: LabelEvent) -> Answer:
        """From a ``label`` or ``skip`` :class:`LabelEvent`."""
        return cls(event.item_id, event.kind, event.label, event.annotator, event.created_at,
                   event.round_number, event.id)  # fmt: skip


def all_events(connection: Connection) -> list[LabelEvent]:
    """Every label event, oldest first."""
    rows = connection.execute(select(label_events).order_by(label_events.c.id))
    return [LabelEvent.from_row(row) for row in rows]


def active_events(connection: Connection) -> list[LabelEvent]:
    """Label and skip events not undone, oldest first."""
    events = all_events(connection)
    undone = {event.undoes for event in events if event.kind == "undo"}
    return [event for event in events if event.kind != "undo" and event.id not in undone]


def annotator_answers(connection: Connection) -> dict[str, dict[str, LabelEvent]]:
    """Answers per annotator: item → annotator → their current (latest active) event."""
    answers: dict[str, dict[str, LabelEvent]] = {}
    for event in active_events(connection):
        answers.setdefault(event.item_id, {})[event.annotator] = event
    return answers


def current_answers(connection: Connection) -> dict[str, LabelEvent]:
    """Current answers: item → its latest active label or skip event (any annotator)."""
    answers: dict[str, LabelEvent] = {}
    for event in active_events(connection):
        answers[event.item_id] = event
    return answers


def label_counts(answers: dict[str, LabelEvent]) -> dict[str, int]:
    """Labels per class among current answers (skips left out)."""
    return dict(Counter(e.label for e in answers.values() if e.kind == "label" and e.label))


def disagreements(connection: Connection) -> list[dict[str, Any]]:
    """Items whose annotators' current labels differ: ``{"item_id", "labels": {who: label}}``."""
    found = []
    for item_id, by_annotator in sorted(annotator_answers(connection).items()):
        labels = {who: e.label for who, e in by_annotator.items() if e.kind == "label"}
        if len(set(labels.values())) > 1:
            found.append({"item_id": item_id, "labels": dict(sorted(labels.items()))})
    return found


def find_request(connection: Connection, request_id: str) -> LabelEvent | None:
    """The event recorded with ``request_id``, if any."""
    row = connection.execute(
        select(label_events).where(label_events.c.request_id == request_id)
    ).first()
    return LabelEvent.from_row(row) if row is not None else None


def insert_event(connection: Connection, **values: Any) -> LabelEvent:
    """Append one event (``created_at`` is now) and return it."""
    values.setdefault("created_at", now())
    result = connection.execute(insert(label_events).values(**values))
    event_id = result.inserted_primary_key[0]
    row = connection.execute(select(label_events).where(label_events.c.id == event_id)).one()
    return LabelEvent.from_row(row)
