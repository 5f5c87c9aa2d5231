"""Where issue 26's figure rows stand, in the order of ``reproduction/sweep_figures.sh``.

Per row: the paper figure it belongs to and its trials (complete, or running with their steps).

    .venv/bin/python reproduction/figure_status.py [reproduction/runs]

Prints Markdown; a row's results go into docs/reproduction.md once it has 3 complete trials.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPORT = "report_repeated_mnist_x2_small"
STOCHASTIC = (
    "power_bald",
    "power_evaluation_bald",
    "power_eig",
    "thompson_bald",
    "uniform_top_bald",
)


def planned_rows() -> list[tuple[str, str, str]]:
    """(figure, experiment, method) in the sweep's order (reproduction/sweep_figures.sh)."""
    rows = [("Report Figs. 4–5, b = 50", REPORT, f"{m}_b50") for m in STOCHASTIC]
    rows += [("Report Figs. 4–5, b = 20", REPORT, f"{m}_b20") for m in STOCHASTIC]
    rows += [("BatchBALD Table 1 / Fig. 4", "mnist_b10", f"batchbald_b{b}") for b in (40, 5)]
    rows += [("Report Fig. 2", REPORT, "evaluation_bald_b10")]
    rows += [("Report Figs. 4–5, b = 10", REPORT, f"{m}_b10") for m in STOCHASTIC[2:]]
    rows += [
        ("BatchBALD Fig. 10", "repeated_mnist", f"{m}_b10")
        for m in ("variation_ratios", "mean_std")
    ]
    rows += [("Report Figs. 4–5, b = 5", REPORT, f"{m}_b5") for m in STOCHASTIC]
    rows += [("BatchBALD Table 1", "mnist_b10", "bald_b1")]
    return rows


def trials_text(folder: Path) -> tuple[int, str]:
    """(complete trials, a cell like ``0 ✓, 1 ✓, 2: 4 steps``) of one method folder."""
    cells, complete = [], 0
    for path in sorted(folder.glob("trial_*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        done = payload.get("status") == "complete"
        complete += done
        steps = len(payload.get("steps", []))
        cells.append(f"{payload['trial']} ✓" if done else f"{payload['trial']}: {steps} steps")
    return complete, ", ".join(cells) or "not started"


def main() -> None:
    """Print the status table of the runs folder given (default ``reproduction/runs``)."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "reproduction/runs")
    print("| figure | experiment / method | complete trials | trials |")
    print("|---|---|---|---|")
    for figure, experiment, method in planned_rows():
        complete, text = trials_text(root / experiment / method)
        print(f"| {figure} | {experiment} / {method} | {complete} of 3 | {text} |")


if __name__ == "__main__":
    main()
