"""Step 5 of issue 6: relative wall time to a target accuracy (BatchBALD paper, Fig. 6) and the
per-step cost of every phase, from the timings recorded in finished trial files.

    .venv/bin/python reproduction/timing.py reproduction/runs/mnist_b10 [--threshold 0.95]
        [--reference batchbald_b10]

For each method (finished trials only): the median over trials of the wall time of all steps up
to the first one at the threshold, that time relative to the reference method's, the median
number of steps it took, and the median seconds per step of each phase over all steps of all
trials that ran that phase (the last step of a trial only trains and evaluates). Prints
Markdown.
"""

from __future__ import annotations

import argparse
import math
import statistics

from batchbald.experiments.report import time_to_threshold
from batchbald.experiments.results import PHASES, load_trials


def _steps_to(trial, threshold: float) -> float:
    for index, accuracy in enumerate(trial.accuracies):
        if accuracy >= threshold:
            return float(index + 1)
    return math.inf


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="experiment folders or trial files")
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--reference", default="batchbald_b10", help="method at 1.00×")
    args = parser.parse_args()
    groups: dict[str, list] = {}
    for trial in load_trials(args.results, include_partial=False):
        groups.setdefault(trial.method, []).append(trial)
    times = {
        m: _median([time_to_threshold(t, args.threshold) for t in g]) for m, g in groups.items()
    }
    reference = times.get(args.reference, math.nan)
    target = f"{args.threshold:.0%}"
    header = ["method", "trials", f"steps to {target}", f"time to {target} (s)", "relative"]
    header += [f"{phase} s/step" for phase in PHASES]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for method, group in sorted(groups.items()):
        steps = _median([_steps_to(t, args.threshold) for t in group])
        row = [method, str(len(group)), f"{steps:g}", f"{times[method]:.0f}"]
        row.append(f"{times[method] / reference:.2f}×" if math.isfinite(reference) else "-")
        for phase in PHASES:
            seconds = [s["timings"][phase] for t in group for s in t.steps if phase in s["timings"]]
            row.append(f"{_median(seconds):.3g}" if seconds else "-")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
