"""Print the accuracy curve of every trial of one experiment (finished or not) as Markdown,
next to the published medians where docs/protocol.md gives them (BatchBALD paper §1), then each
trial's Table-1 marks (N_first − b at 90% and 95%; ">budget" if not reached yet), the size
N_first at 90% (the PowerEvaluationBALD report's convention), the size from which it stays at
90% or above to its last step (finished trials only; a diagnostic for curves that cross the
threshold and fall back) and its accuracy at 100, 200 and 300 labels (the last step at or below
each size: a trial stopped at its target carries its last accuracy forward, as the report
tables do; blank before the trial gets there).

    .venv/bin/python reproduction/progress.py [reproduction/runs/mnist_b10]

A method folder (``reproduction/runs/<experiment>/<method>``) or one trial file works too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from batchbald.errors import DataError
from batchbald.experiments.results import find_trial_files

# docs/protocol.md §1: median test accuracy (%) by training-set size.
PUBLISHED = {
    "mnist_b10": {
        "batchbald_b10": {20: 66.6, 60: 85.3, 100: 89.6, 160: 93.7, 200: 94.7, 280: 95.9},
        "bald_b10": {20: 66.2, 60: 78.7, 100: 86.1, 160: 89.8, 200: 92.0, 280: 94.4},
    },
    "repeated_mnist": {
        "batchbald_b10": {100: 88.4},
        "bald_b10": {100: 77.1},
        "random_b5": {100: 81.4},
    },
}


#: Sizes of the per-trial accuracy columns (the report's; docs/protocol.md §2).
REPORTED_SIZES = (100, 200, 300)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "reproduction/runs/mnist_b10")
    trials = [json.loads(path.read_text()) for path in trial_files(root)]
    published = PUBLISHED.get(trials[0]["experiment"], {})
    curves: dict[str, dict[int, float]] = {}
    marks: list[str] = []
    for trial in trials:
        label = f"{trial['method']} trial {trial['trial']} ({trial['status']})"
        curves[label] = {s["train_size"]: 100 * s["test_accuracy"] for s in trial["steps"]}
        accuracies = " | ".join(accuracy_at(trial, size) for size in REPORTED_SIZES)
        marks.append(f"| {label} | {mark(trial, 0.90)} | {mark(trial, 0.95)} | "
                     f"{first_size(trial, 0.90)} | {settled_size(trial, 0.90)} | "
                     f"{accuracies} |")  # fmt: skip
    sizes = sorted({size for curve in curves.values() for size in curve})
    columns = list(curves) + [f"paper median {name}" for name in published]
    print("| size | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for size in sizes:
        ours = [f"{curve[size]:.2f}" if size in curve else "" for curve in curves.values()]
        paper = [f"{published[name].get(size, '')}" for name in published]
        print(f"| {size} | " + " | ".join(ours + paper) + " |")
    at_sizes = " | ".join(f"accuracy at {size} (%)" for size in REPORTED_SIZES)
    print(f"\n| trial | 90% mark (N_first − b) | 95% mark | size at 90% (N_first) "
          f"| stays ≥ 90% from | {at_sizes} |")  # fmt: skip
    print("|---" * (5 + len(REPORTED_SIZES)) + "|")
    print("\n".join(marks))


def trial_files(root: Path) -> list[Path]:
    """Trial files under an experiment folder, a method folder or a single trial file."""
    try:
        files = find_trial_files([root])
    except DataError as error:
        raise SystemExit(str(error)) from None
    if not files:
        raise SystemExit(f"no trial_*.json files under {root}; expected reproduction/runs/<name>")
    return files


def first_reaching(trial: dict, threshold: float) -> int | None:
    """N_first: the first training-set size whose test accuracy reaches ``threshold``."""
    return next(
        (step["train_size"] for step in trial["steps"] if step["test_accuracy"] >= threshold),
        None,
    )


def mark(trial: dict, threshold: float) -> str:
    """N_first − b (">budget" if not reached)."""
    size = first_reaching(trial, threshold)
    return f">{trial['label_budget']}" if size is None else str(size - trial["batch_size"])


def first_size(trial: dict, threshold: float) -> str:
    """N_first (">last size" if not reached yet)."""
    size = first_reaching(trial, threshold)
    if size is not None:
        return str(size)
    return f">{trial['steps'][-1]['train_size']}" if trial["steps"] else "–"


def settled_size(trial: dict, threshold: float) -> str:
    """The first size from which every later step reaches ``threshold`` (">last size" if the
    last one does not; blank for a running trial, whose later steps are unknown).
    """
    if trial["status"] != "complete" or not trial["steps"]:
        return ""
    size = None
    for step in reversed(trial["steps"]):
        if step["test_accuracy"] < threshold:
            break
        size = step["train_size"]
    return f">{trial['steps'][-1]['train_size']}" if size is None else str(size)


def accuracy_at(trial: dict, size: int) -> str:
    """Test accuracy (%) of the last step with at most ``size`` labels; blank while a running
    trial has not got there (a finished one carries its last accuracy forward).
    """
    steps = [step for step in trial["steps"] if step["train_size"] <= size]
    reached = trial["status"] == "complete" or (
        trial["steps"] and trial["steps"][-1]["train_size"] >= size
    )
    return f"{100 * steps[-1]['test_accuracy']:.2f}" if steps and reached else ""


if __name__ == "__main__":
    main()
