"""What ``batchbald campaign`` prints: a proposed round, the status, the estimate plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_estimates", "print_round", "print_status"]


def print_round(round_: Any) -> None:
    """The round's number, model and items in pick order with their scores."""
    model = f"model {round_.model_version}" if round_.model_version else "untrained model"
    seconds = sum(round_.timings.values())
    print(
        f"round {round_.number}: {len(round_.items)} items by {round_.method} ({model}, "
        f"{seconds:.1f} s)"
    )
    for item in round_.items:
        print(f"  {item.position + 1:3d}. {item.item_id}  score {item.score:.4f}")


def _estimate_line(model: dict[str, Any] | None) -> str:
    if model is None:
        return "model: none yet (propose trains one once there are labels)"
    estimate = model["estimate"]
    head = f"model {model['version']} (round {model['round']}, {model['num_labels']} labels)"
    if estimate["accuracy"] is None:
        return f"{head}: no accuracy estimate ({estimate['reason']})"
    return (
        f"{head}: accuracy {estimate['accuracy']:.1%} (95% interval {estimate['low']:.1%}-"
        f"{estimate['high']:.1%}, on {estimate['n']} held-out labels)"
    )


def print_status(status: dict[str, Any]) -> None:
    """A readable summary of :meth:`Campaign.status`."""
    pool = status["pool"]
    print(
        f"pool: {pool['present']} items ({pool['gone']} gone, "
        f"{len(pool['unreadable'])} unreadable); classes: {', '.join(status['classes'])}"
    )
    per_class = ", ".join(
        f"{name} {status['per_class'].get(name, 0)}" for name in status["classes"]
    )
    print(f"labels: {status['labels']} ({per_class})")
    if status.get("target"):
        print(f"target inputs ({status['method']}): {status['target']}")
    people = ", ".join(f"{who} {n}" for who, n in sorted(status["per_annotator"].items()))
    print(f"annotators: {people or 'none yet'}; disagreements: {status['disagreements']}")
    for r in status["rounds"]:
        print(f"round {r['number']}: {r['done']}/{r['size']} answered, proposed {r['created_at']}")
    print(_estimate_line(status["model"]))
    propose = status["propose"]
    print(
        f"propose: {propose['state']}" + (f" ({propose['message']})" if propose["message"] else "")
    )
    for _, problem in sorted(pool["unreadable"].items()):
        print(f"unreadable: {problem}")


def plot_estimates(campaign: Any, path: Path) -> None:
    """Accuracy estimate (with its 95% interval) against labels, one point per model."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sqlalchemy import select

    from batchbald.atomic import atomic_write
    from batchbald.campaign.reports import accuracy_estimate
    from batchbald.campaign.schema import models

    with campaign.store.begin() as connection:
        rows = connection.execute(select(models.c.num_labels, models.c.metrics)).all()
    points = [(row.num_labels, accuracy_estimate(json.loads(row.metrics))) for row in rows]
    points = [(n, e) for n, e in points if e["accuracy"] is not None]
    figure, axes = plt.subplots(figsize=(5, 3.2))
    if points:
        xs = [n for n, _ in points]
        ys = [e["accuracy"] for _, e in points]
        errors = [
            [y - e["low"] for y, (_, e) in zip(ys, points, strict=True)],
            [e["high"] - y for y, (_, e) in zip(ys, points, strict=True)],
        ]
        axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3)
    axes.set_xlabel("labels")
    axes.set_ylabel("held-out accuracy (95% interval)")
    figure.tight_layout()
    try:
        fmt = path.suffix[1:].lower() or None  # None: matplotlib's default format (PNG)
        atomic_write(path, lambda handle: figure.savefig(handle, format=fmt, dpi=120))
    finally:
        plt.close(figure)
