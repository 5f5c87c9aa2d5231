"""Read-only summaries of a campaign.

Progress of the round, status, the accuracy estimate, and the CSV export of the current labels.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from batchbald.atomic import atomic_write_text
from batchbald.campaign.history import current_answers, disagreements, label_counts
from batchbald.campaign.lock import read_state
from batchbald.campaign.rounds import all_rounds, current_round
from batchbald.campaign.schema import assignments, items, models

__all__ = ["accuracy_estimate", "export_csv", "progress", "status", "wilson_interval"]


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% for z = 1.96).

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if total <= 0:
        return (0.0, 1.0)
    p, z2 = correct / total, z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def accuracy_estimate(metrics: dict[str, Any]) -> dict[str, Any]:
    """The model's accuracy on its held-out labels, its 95% Wilson interval and their count.

    Without held-out labels (fixed regime) the estimate is None and ``reason`` says why.
    """
    size, correct = int(metrics.get("holdout_size", 0)), int(metrics.get("holdout_correct", 0))
    if size == 0:
        return {
            "accuracy": None,
            "low": None,
            "high": None,
            "n": 0,
            "regime": metrics.get("regime"),
            "reason": "too few labels for a held-out set: trained with the fixed regime",
        }
    low, high = wilson_interval(correct, size)
    return {
        "accuracy": correct / size,
        "low": low,
        "high": high,
        "n": size,
        "regime": metrics.get("regime"),
        "reason": None,
    }


def progress(connection: Connection) -> dict[str, Any]:
    """See :meth:`batchbald.campaign.Campaign.progress`."""
    round_ = current_round(connection)
    answers = current_answers(connection)
    ids = round_.item_ids if round_ else []
    answered = [i for i in ids if i in answers]
    assigned: dict[str, list[str]] = {}
    if round_ is not None:
        rows = connection.execute(
            select(assignments).where(assignments.c.round_number == round_.number)
        )
        for row in rows:
            assigned.setdefault(row.item_id, []).append(row.annotator)
    return {
        "round": round_.number if round_ else None,
        "done": len(answered),
        "total": len(ids),
        "skipped": sum(answers[i].kind == "skip" for i in answered),
        "remaining": [i for i in ids if i not in answers],
        "per_class": label_counts(answers),
        "per_annotator": dict(Counter(e.annotator for e in answers.values() if e.kind == "label")),
        "assigned": assigned,
    }


def _latest_model(connection: Connection) -> dict[str, Any] | None:
    row = connection.execute(
        select(models.c.version, models.c.round_number, models.c.created_at, models.c.metrics)
        .order_by(models.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    metrics = json.loads(row.metrics)
    return {
        "version": row.version,
        "round": row.round_number,
        "created_at": row.created_at,
        "num_labels": metrics.get("num_labels"),
        "estimate": accuracy_estimate(metrics),
    }


def status(connection: Connection, settings: Any) -> dict[str, Any]:
    """See :meth:`batchbald.campaign.Campaign.status`."""
    answers = current_answers(connection)
    present = connection.execute(select(func.count()).where(items.c.present == 1)).scalar()
    gone = connection.execute(select(func.count()).where(items.c.present == 0)).scalar()
    problems = connection.execute(
        select(items.c.item_id, items.c.problem).where(items.c.problem.is_not(None))
    ).all()
    return {
        "classes": list(settings.classes),
        "method": settings.method,
        "batch_size": settings.batch_size,
        "model_name": settings.model if isinstance(settings.model, str) else settings.model["kind"],
        "model_spec": settings.model,
        "target": settings.target,
        "pool": {
            "present": present,
            "gone": gone,
            "unreadable": {row.item_id: row.problem for row in problems},
        },
        "labels": sum(e.kind == "label" for e in answers.values()),
        "per_class": label_counts(answers),
        "per_annotator": dict(Counter(e.annotator for e in answers.values() if e.kind == "label")),
        "rounds": [_round_summary(r, answers) for r in all_rounds(connection)],
        "model": _latest_model(connection),
        "propose": read_state(connection).__dict__,
        "disagreements": len(disagreements(connection)),
    }


def _round_summary(round_: Any, answers: dict[str, Any]) -> dict[str, Any]:
    done = sum(i in answers for i in round_.item_ids)
    return {
        "number": round_.number,
        "created_at": round_.created_at,
        "size": len(round_.items),
        "done": done,
        "model_version": round_.model_version,
        "timings": round_.timings,
    }


def export_csv(connection: Connection, path: Path) -> int:
    """Write the current labels as CSV ``item_id,label,annotator,labelled_at`` atomically."""
    answers = current_answers(connection)
    rows = [
        (i, e.label, e.annotator, e.created_at)
        for i, e in sorted(answers.items())
        if e.kind == "label"
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["item_id", "label", "annotator", "labelled_at"])
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
    return len(rows)
