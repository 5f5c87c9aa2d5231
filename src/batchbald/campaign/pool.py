"""Keeping the ``items`` table in step with the pool source.

New files join the pool, vanished ones leave it (``present = 0``; their label history stays),
changed files get their new fingerprint. Items the source already labels (class sub-folders,
a manifest's label column) whose history is empty get one ``label`` event by the annotator
``source``, so the labels the team brought count like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from batchbald.campaign.schema import items, label_events
from batchbald.campaign.store import now
from batchbald.data.sources import PoolItem

__all__ = ["SOURCE_ANNOTATOR", "SyncReport", "sync_items"]

#: The annotator name of labels that come with the source.
SOURCE_ANNOTATOR = "source"


@dataclass(frozen=True)
class SyncReport:
    """What a pool sync changed (item ids)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    imported: int = 0


def sync_items(
    connection: Connection, scanned: list[PoolItem], classes: tuple[str, ...]
) -> SyncReport:
    """Make ``items`` match ``scanned`` (one source scan) and import the source's labels."""
    columns = select(items.c.item_id, items.c.fingerprint, items.c.present)
    known = {row.item_id: row for row in connection.execute(columns)}
    stamp = now()
    seen = {item.item_id for item in scanned}
    new = [item for item in scanned if item.item_id not in known]
    if new:
        connection.execute(
            insert(items),
            [
                {
                    "item_id": i.item_id,
                    "fingerprint": i.fingerprint,
                    "source_label": i.label,
                    "present": 1,
                    "first_seen_at": stamp,
                }
                for i in new
            ],
        )
    changed = []
    for item in scanned:
        row = known.get(item.item_id)
        if row is not None and (row.fingerprint != item.fingerprint or not row.present):
            changed.append(item.item_id)
            connection.execute(
                update(items)
                .where(items.c.item_id == item.item_id)
                .values(fingerprint=item.fingerprint, present=1, problem=None)
            )
    removed = [i for i, row in known.items() if row.present and i not in seen]
    for item_id in removed:
        connection.execute(update(items).where(items.c.item_id == item_id).values(present=0))
    imported = _import_labels(connection, scanned, classes, stamp)
    return SyncReport([i.item_id for i in new], removed, changed, imported)


def _import_labels(
    connection: Connection, scanned: list[PoolItem], classes: tuple[str, ...], stamp: str
) -> int:
    labelled = {row.item_id for row in connection.execute(select(label_events.c.item_id))}
    rows = [
        {
            "item_id": item.item_id,
            "kind": "label",
            "label": item.label,
            "annotator": SOURCE_ANNOTATOR,
            "created_at": stamp,
        }
        for item in scanned
        if item.label in classes and item.item_id not in labelled
    ]
    if rows:
        connection.execute(insert(label_events), rows)
    return len(rows)


def mark_problem(connection: Connection, item_id: str, problem: str) -> None:
    """Record why an item could not be read (shown by status; the item is skipped)."""
    connection.execute(update(items).where(items.c.item_id == item_id).values(problem=problem))
