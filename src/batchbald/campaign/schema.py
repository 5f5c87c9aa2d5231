"""The campaign database's tables and their versioned migrations.

Facts are appended, never updated: label events (a correction is a new ``label`` row, an undo
is an ``undo`` row naming the event it cancels), rounds with their items in pick order, model
versions with metrics and checkpoints. The only rows updated in place are derived state: the
pool's ``items`` (present or gone, as the source last said) and the single ``propose_state``
row that doubles as the cross-process lock of ``propose``.

Every schema change is a numbered migration in :data:`MIGRATIONS`; ``schema_version`` holds one
row per applied migration, so a database from an older batchbald is upgraded on open and one
from a newer batchbald is refused (:class:`~batchbald.campaign.errors.NewerSchemaError`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "tables"]

metadata = MetaData()

schema_version = Table(
    "batchbald_schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", String(40), nullable=False),
)  # fmt: skip

campaign = Table(
    "campaign", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("created_at", String(40), nullable=False),
    Column("settings", Text, nullable=False),
)  # fmt: skip

items = Table(
    "items", metadata,
    Column("item_id", String(1024), primary_key=True),
    Column("fingerprint", String(100), nullable=False),
    Column("source_label", String(200)),
    Column("present", Integer, nullable=False),
    Column("first_seen_at", String(40), nullable=False),
    Column("problem", Text),
)  # fmt: skip

rounds = Table(
    "rounds", metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("created_at", String(40), nullable=False),
    Column("method", String(100), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("model_version", Integer),
    Column("loop_state", Text, nullable=False),
    Column("timings", Text, nullable=False),
)  # fmt: skip

round_items = Table(
    "round_items", metadata,
    Column("round_number", Integer, ForeignKey("rounds.number"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("item_id", String(1024), ForeignKey("items.item_id"), nullable=False),
    Column("score", Float, nullable=False),
    PrimaryKeyConstraint("round_number", "position"),
    UniqueConstraint("round_number", "item_id"),
)  # fmt: skip

label_events = Table(
    "label_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(1024), ForeignKey("items.item_id"), nullable=False),
    Column("kind", String(10), nullable=False),  # label | skip | undo
    Column("label", String(200)),
    Column("annotator", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("round_number", Integer),
    Column("model_version", Integer),
    Column("request_id", String(200), unique=True),
    Column("undoes", Integer, ForeignKey("label_events.id"), unique=True),
    Index("label_events_item", "item_id"),
)  # fmt: skip

models = Table(
    "models", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("round_number", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("num_labels", Integer, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("checkpoint", LargeBinary, nullable=False),
)  # fmt: skip

propose_state = Table(
    "propose_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("state", String(20), nullable=False),  # idle | running | failed
    Column("phase", String(40)),
    Column("fraction", Float),
    Column("message", Text),
    Column("owner", String(200)),
    Column("started_at", String(40)),
    Column("heartbeat_at", String(40)),
)  # fmt: skip

assignments = Table(
    "assignments", metadata,
    Column("item_id", String(1024), ForeignKey("items.item_id"), nullable=False),
    Column("annotator", String(64), nullable=False),
    Column("round_number", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    PrimaryKeyConstraint("round_number", "item_id", "annotator"),
)  # fmt: skip

_V1 = (schema_version, campaign, items, rounds, round_items, label_events, models, propose_state)


def _create(*chosen: Table) -> Callable[[Connection], None]:
    def migrate(connection: Connection) -> None:
        metadata.create_all(connection, tables=list(chosen))

    return migrate


#: (version, description, migration) in order; a migration runs inside the upgrade's transaction.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "campaign, items, rounds, label history, models, propose state", _create(*_V1)),
    (2, "assignments of items to annotators", _create(assignments)),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

tables = {table.name: table for table in metadata.sorted_tables}
