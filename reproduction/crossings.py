"""How accuracy curves cross a threshold: per trial, the first size that reaches it (N_first, the
papers' statistic), the size from which the curve stays at or above it, and how often the curve
falls from one step to the next, for our finished trials and for the BatchBALD repository's own
runs (the JSONs in ``reproduction/checks``). Issue 6 asks to investigate numbers outside the
published quartiles: this separates "our curves rise earlier" from "our curves cross early and
fall back" and compares both with the original code's runs.

    .venv/bin/python reproduction/crossings.py reproduction/runs/report_repeated_mnist_x2_small \
        reproduction/checks/paper_repeated_mnist_runs.json [--threshold 0.9]

A paper run's iteration i is the model trained on its initial points plus i batches of 10
(``retrain_sets.py`` reads them the same way).
"""

from __future__ import annotations

import argparse
import json
from itertools import pairwise
from pathlib import Path

from progress import first_reaching, settled_size, trial_files


def our_trials(experiment: Path):
    """(label, trial dict) for every finished trial under an experiment folder."""
    for path in trial_files(experiment):
        trial = json.loads(path.read_text())
        if trial["status"] == "complete":
            yield f"{trial['experiment']} {trial['method']} {trial['trial']}", trial


def paper_trial(run: dict) -> dict:
    """One run of a paper-runs JSON as a trial dict in our layout (batches of 10)."""
    start = len(run["initial_samples"])
    steps = [
        {"train_size": start + 10 * i, "test_accuracy": iteration["accuracy"]}
        for i, iteration in enumerate(run["iterations"])
    ]
    return {"steps": steps, "status": "complete"}


def paper_trials(path: Path):
    """(label, trial dict in our layout) for every run of a paper-runs JSON."""
    for run in json.loads(path.read_text())["runs"]:
        copies = f" ×{run['copies']}" if "copies" in run else ""
        yield f"paper{copies} {run['method']} seed {run['seed']}", paper_trial(run)


def falls(trial: dict) -> tuple[int, float]:
    """Steps whose accuracy is below the previous step's, and the largest such fall (points)."""
    accuracies = [step["test_accuracy"] for step in trial["steps"]]
    drops = [before - after for before, after in pairwise(accuracies) if after < before]
    return len(drops), 100 * max(drops, default=0.0)


def rows(source: Path, threshold: float) -> list[str]:
    trials = paper_trials(source) if source.suffix == ".json" else our_trials(source)
    lines = []
    for label, trial in trials:
        first = first_reaching(trial, threshold)
        count, largest = falls(trial)
        steps = len(trial["steps"]) - 1
        lines.append(
            f"| {label} | {first if first is not None else '>last'} "
            f"| {settled_size(trial, threshold)} | {count} of {steps} | {largest:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sources", type=Path, nargs="+", help="reproduction/runs/<experiment> or a paper-runs JSON"
    )
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    percent = f"{args.threshold:.0%}"
    print(f"| trial | first size at {percent} (N_first) | stays ≥ {percent} from "
          "| steps that fall | largest fall (points) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for source in args.sources:
        print("\n".join(rows(source, args.threshold)))


if __name__ == "__main__":
    main()
