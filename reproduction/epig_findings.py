"""Issue 24's EPIG experiments: EPIG against BALD and random, trial by trial (paired by seed).

For every method of an experiment folder: the test accuracy at 100, 200 and 300 labels per trial
and their mean; for EPIG, the paired difference to BALD and to random (trial i of every method
starts from the same seed, initial set and first model); and with ``--classes`` the share of
the labelled set at the last step that falls in those classes (the minority classes of the
class-imbalanced pool, where EPIG's balanced target set should draw labels).

    .venv/bin/python reproduction/epig_findings.py reproduction/runs/epig_imbalanced_mnist \
        --classes 0,1,2,3,4
    .venv/bin/python reproduction/epig_findings.py reproduction/runs/epig_repeated_mnist

Partial trials are included up to the size they reached (marked with their step count), so
the table can be read while the runs go on; docs/reproduction.md cites only complete trials.
"""

from __future__ import annotations

import argparse
import math
import statistics

from batchbald.experiments.report import accuracy_at
from batchbald.experiments.results import TrialResult, load_trials

SIZES = (100, 200, 300)


def percent(value: float) -> str:
    """A fraction as a percentage with one decimal; NaN (not reached) as a dash."""
    return "—" if math.isnan(value) else f"{100 * value:.1f}"


def mean(values: list[float]) -> float:
    """Mean of the values that are not NaN (NaN when none is)."""
    values = [value for value in values if not math.isnan(value)]
    return statistics.mean(values) if values else math.nan


def share(trial: TrialResult, classes: list[int]) -> float:
    """Fraction of the last step's labelled set in ``classes``."""
    histogram = trial.steps[-1]["class_histogram"]
    return sum(histogram[c] for c in classes) / max(1, sum(histogram))


def method_rows(trials: list[TrialResult], classes: list[int]) -> list[str]:
    """One table row per method: accuracies per trial and their mean, the classes' share."""
    rows = []
    for method in sorted({trial.method for trial in trials}):
        group = [trial for trial in trials if trial.method == method]
        cells = []
        for size in SIZES:
            each = [accuracy_at(trial, size) for trial in group]
            cells.append(f"{'; '.join(map(percent, each))} (mean {percent(mean(each))})")
        state = ", ".join(
            "done" if trial.complete else f"{len(trial.steps)} steps" for trial in group
        )
        extra = f" | {'; '.join(percent(share(t, classes)) for t in group)}" if classes else ""
        rows.append(f"| {method} | {state} | {' | '.join(cells)}{extra} |")
    return rows


def paired_rows(trials: list[TrialResult], method: str, others: list[str]) -> list[str]:
    """One row per other method: ``method`` minus it, trial by trial (same seed), in points."""
    by_key = {(trial.method, trial.trial): trial for trial in trials}
    rows = []
    for other in others:
        cells = []
        for size in SIZES:
            differences = [
                accuracy_at(by_key[(method, i)], size) - accuracy_at(by_key[(other, i)], size)
                for (name, i) in by_key
                if name == method and (other, i) in by_key
            ]
            shown = "; ".join(f"{100 * d:+.1f}" for d in differences if not math.isnan(d))
            cells.append(f"{shown or '—'} (mean {percent(mean(differences))})")
        rows.append(f"| {method} − {other} | {' | '.join(cells)} |")
    return rows


def main() -> None:
    """Print both tables for the folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="an experiment's results folder")
    parser.add_argument("--classes", default="", help="class indices whose labelled share to show")
    parser.add_argument("--method", default="epig_b10", help="the method compared in pairs")
    args = parser.parse_args()
    classes = [int(c) for c in args.classes.split(",") if c]
    trials = load_trials([args.folder])
    header = " | ".join(f"accuracy at {size}, per trial" for size in SIZES)
    share_header = f" | share of classes {args.classes} at the end" if classes else ""
    print(f"| method | trials | {header}{share_header} |")
    print("|---" * (2 + len(SIZES) + bool(classes)) + "|")
    print("\n".join(method_rows(trials, classes)))
    others = sorted({t.method for t in trials} - {args.method})
    print()
    print(f"| paired difference (points) | {' | '.join(f'at {size}' for size in SIZES)} |")
    print("|---" * (1 + len(SIZES)) + "|")
    print("\n".join(paired_rows(trials, args.method, others)))


if __name__ == "__main__":
    main()
