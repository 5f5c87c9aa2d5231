"""Rounds: the batches a campaign proposed, each with its items in pick order and their scores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from batchbald.campaign.schema import round_items, rounds

__all__ = ["Round", "RoundItem", "all_rounds", "current_round", "picked_items"]


@dataclass(frozen=True)
class RoundItem:
    """One proposed item: its id, position in the pick order (0 first) and acquisition score."""

    item_id: str
    position: int
    score: float


@dataclass(frozen=True)
class Round:
    """A proposed batch.

    Attributes:
        number: 1, 2, ...
        method: the acquirer.
        seed: the campaign seed.
        model_version: the model that scored the pool (None before any label: untrained net).
        created_at: UTC ISO time.
        batch_size: the batch size asked for.
        items: the batch in pick order.
        timings: seconds per phase of the propose that made it.
    """

    number: int
    method: str
    seed: int
    model_version: int | None
    created_at: str
    batch_size: int
    items: list[RoundItem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def item_ids(self) -> list[str]:
        """The items' ids in pick order."""
        return [item.item_id for item in self.items]


def _round(connection: Connection, row: Any) -> Round:
    members = connection.execute(
        select(round_items)
        .where(round_items.c.round_number == row.number)
        .order_by(round_items.c.position)
    )
    return Round(
        number=row.number,
        method=row.method,
        seed=row.seed,
        model_version=row.model_version,
        created_at=row.created_at,
        batch_size=row.batch_size,
        items=[RoundItem(m.item_id, m.position, m.score) for m in members],
        timings=json.loads(row.timings),
    )


def current_round(connection: Connection) -> Round | None:
    """The latest round, or None before the first propose."""
    number = connection.execute(select(func.max(rounds.c.number))).scalar()
    if number is None:
        return None
    row = connection.execute(select(rounds).where(rounds.c.number == number)).one()
    return _round(connection, row)


def all_rounds(connection: Connection) -> list[Round]:
    """Every round, oldest first."""
    rows = connection.execute(select(rounds).order_by(rounds.c.number)).all()
    return [_round(connection, row) for row in rows]


def picked_items(connection: Connection) -> list[str]:
    """Every proposed item, round by round in pick order (the loop's acquisition order)."""
    rows = connection.execute(
        select(round_items.c.item_id).order_by(round_items.c.round_number, round_items.c.position)
    )
    return [row.item_id for row in rows]


def loop_state(connection: Connection) -> dict[str, Any] | None:
    """The generator states saved with the latest round (None before the first)."""
    row = connection.execute(
        select(rounds.c.loop_state).order_by(rounds.c.number.desc()).limit(1)
    ).first()
    return json.loads(row.loop_state) if row is not None else None
