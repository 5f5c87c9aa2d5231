"""Recording answers: label, skip and undo, with the checks and idempotency the API promises.

Each function runs inside the caller's transaction. A retried request (same ``request_id``) or
an identical repeated submission (the annotator's current answer for the item is already this
label) returns the event already recorded instead of appending a second one.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from batchbald.campaign.errors import InvalidLabelError, UnknownItemError
from batchbald.campaign.history import LabelEvent, find_request, insert_event
from batchbald.campaign.rounds import Round, current_round
from batchbald.campaign.schema import assignments, items, label_events
from batchbald.campaign.settings import check_annotator
from batchbald.campaign.store import now

__all__ = ["assign_item", "check_request_id", "record_answer", "undo_last"]


def check_request_id(request_id: object) -> str | None:
    """None, or a string of 1-200 characters."""
    if request_id is None or (isinstance(request_id, str) and 0 < len(request_id) <= 200):
        return request_id
    raise InvalidLabelError(f"request_id must be None or 1-200 characters; got {request_id!r}")


def _check_item(connection: Connection, item_id: object) -> Round:
    if not isinstance(item_id, str):
        raise UnknownItemError(f"item_id must be a string item id; got {item_id!r}")
    row = connection.execute(select(items.c.present).where(items.c.item_id == item_id)).first()
    if row is None or not row.present:
        raise UnknownItemError(f"item_id must name an item in the pool; got {item_id!r}")
    round_ = current_round(connection)
    if round_ is None or item_id not in round_.item_ids:
        where = f"round {round_.number}" if round_ else "any round (nothing proposed yet)"
        raise UnknownItemError(
            f"item_id must be an item of the current round; {item_id!r} is not in {where}"
        )
    return round_


def _item_events(connection: Connection, item_id: str) -> list[LabelEvent]:
    rows = connection.execute(
        select(label_events).where(label_events.c.item_id == item_id).order_by(label_events.c.id)
    )
    return [LabelEvent.from_row(row) for row in rows]


def _active(events: list[LabelEvent]) -> list[LabelEvent]:
    undone = {event.undoes for event in events if event.kind == "undo"}
    return [event for event in events if event.kind != "undo" and event.id not in undone]


def _replayed(
    connection: Connection, request_id: str | None, item_id: str, kind: str, label: str | None
) -> LabelEvent | None:
    if request_id is None:
        return None
    event = find_request(connection, request_id)
    if event is not None and (event.item_id, event.kind, event.label) != (item_id, kind, label):
        raise InvalidLabelError(
            f"request_id {request_id!r} was already used for another submission "
            f"({event.kind} {event.label!r} of {event.item_id!r}); send a new request_id"
        )
    return event


def record_answer(
    connection: Connection,
    classes: tuple[str, ...],
    item_id: str,
    label: str | None,
    annotator: str,
    request_id: str | None = None,
) -> LabelEvent:
    """Append a ``label`` (``label`` given) or ``skip`` (``label`` None) event; see module doc."""
    check_annotator(annotator)
    check_request_id(request_id)
    if label is not None and label not in classes:
        raise InvalidLabelError(f"label must be one of {', '.join(classes)}; got {label!r}")
    kind = "skip" if label is None else "label"
    replay = _replayed(connection, request_id, item_id, kind, label)
    if replay is not None:
        return replay
    round_ = _check_item(connection, item_id)
    mine = [e for e in _active(_item_events(connection, item_id)) if e.annotator == annotator]
    if mine and (mine[-1].kind, mine[-1].label) == (kind, label):
        return mine[-1]
    return insert_event(
        connection,
        item_id=item_id,
        kind=kind,
        label=label,
        annotator=annotator,
        round_number=round_.number,
        model_version=round_.model_version,
        request_id=request_id,
    )


def undo_last(
    connection: Connection, annotator: str, request_id: str | None = None
) -> LabelEvent | None:
    """Cancel ``annotator``'s latest active answer of the current round.

    Returns:
        The undo event, or None when there is nothing to undo.
    """
    check_annotator(annotator)
    check_request_id(request_id)
    if request_id is not None and (event := find_request(connection, request_id)) is not None:
        return event
    round_ = current_round(connection)
    if round_ is None:
        return None
    rows = connection.execute(
        select(label_events)
        .where(label_events.c.round_number == round_.number)
        .order_by(label_events.c.id)
    )
    events = [LabelEvent.from_row(row) for row in rows]
    mine = [event for event in _active(events) if event.annotator == annotator]
    if not mine:
        return None
    last = mine[-1]
    return insert_event(
        connection,
        item_id=last.item_id,
        kind="undo",
        label=last.label,
        annotator=annotator,
        round_number=round_.number,
        model_version=round_.model_version,
        request_id=request_id,
        undoes=last.id,
    )


def assign_item(connection: Connection, item_id: str, annotators: list[str]) -> None:
    """Send ``item_id`` (of the current round) to ``annotators`` (already assigned: kept)."""
    names = [check_annotator(name) for name in annotators]
    round_ = current_round(connection)
    if round_ is None or item_id not in round_.item_ids:
        raise UnknownItemError(f"item_id must be an item of the current round; got {item_id!r}")
    query = select(assignments.c.annotator).where(
        assignments.c.round_number == round_.number, assignments.c.item_id == item_id
    )
    done = {row.annotator for row in connection.execute(query)}
    rows = [
        {"item_id": item_id, "annotator": name, "round_number": round_.number, "created_at": now()}
        for name in dict.fromkeys(names)
        if name not in done
    ]
    if rows:
        connection.execute(insert(assignments), rows)
