"""Our finished trials next to the published numbers, per method, for the experiments whose
papers report per-method summaries (issue 6, steps 3 and 4): the size at which 90% is first
reached (N_first) per trial against the published quartiles, and the accuracy at the published
sizes per trial against the published means; our median N_first and mean accuracies beside them
(the statistics the papers give).

    .venv/bin/python reproduction/versus.py reproduction/runs/report_repeated_mnist_x2_small
    .venv/bin/python reproduction/versus.py reproduction/runs/tmlr_repeated_mnist_x4

Published values: PROTOCOL.md §2 (PowerEvaluationBALD report, Repeated-MNIST ×2, b = 10; random
at b = 5) and §3 (TMLR 2023, Repeated-MNIST ×4, b = 10).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

from progress import first_reaching, trial_files

# experiment -> method -> (90% quartiles or None, {size: mean accuracy %})
PUBLISHED: dict[str, dict[str, tuple[tuple[int, int, int] | None, dict[int, float]]]] = {
    "report_repeated_mnist_x2_small": {
        "batchbald_b10": ((130, 140, 160), {100: 87.1, 200: 92.5, 300: 94.2}),
        "batch_evaluation_bald_b10": ((110, 120, 120), {100: 89.2, 200: 93.3, 300: 95.0}),
        "power_bald_b10": ((110, 130, 130), {100: 88.3, 200: 93.7, 300: 95.4}),
        "power_evaluation_bald_b10": ((110, 120, 130), {100: 89.1, 200: 94.1, 300: 95.2}),
        "bald_b10": ((213, 220, 263), {100: 78.1, 200: 86.9, 300: 90.8}),
        "random_b5": ((179, 195, 216), {100: 84.0, 200: 89.6, 300: 91.8}),
    },
    "tmlr_repeated_mnist_x4": {
        "power_bald_b10": (None, {300: 95.7}),
        "bald_b10": (None, {300: 88.6}),
        "random_b10": (None, {300: 93.4}),
        "batchbald_b5": (None, {300: 96.0}),
    },
}


def accuracy_at(trial: dict, size: int) -> float:
    """Test accuracy (%) of the last step with at most ``size`` labels (a finished trial that
    stopped earlier carries its last accuracy forward, as the papers' tables do)."""
    steps = [step for step in trial["steps"] if step["train_size"] <= size]
    return 100 * steps[-1]["test_accuracy"]


def _number(value: float | None, digits: int = 1) -> str:
    return ">last" if value is None or math.isinf(value) else f"{value:.{digits}f}"


def method_row(method: str, trials: list[dict], published) -> str:
    quartiles, means = published
    sizes = list(means)
    firsts = [first_reaching(trial, 0.90) for trial in trials]
    first_text = ", ".join(_number(size, 0) for size in firsts)
    # Never reached counts as infinity (PROTOCOL.md's convention), printed ">last".
    median_first = statistics.median(math.inf if size is None else size for size in firsts)
    per_trial = "; ".join(
        " / ".join(_number(accuracy_at(trial, size)) for size in sizes) for trial in trials
    )
    means_ours = " / ".join(
        _number(statistics.mean(accuracy_at(trial, size) for trial in trials)) for size in sizes
    )
    published_quartiles = " / ".join(map(str, quartiles)) if quartiles else "—"
    published_means = " / ".join(f"{means[size]:.1f}" for size in sizes)
    return (
        f"| {method} | {len(trials)} | {first_text} | {_number(median_first, 0)} "
        f"| {published_quartiles} | {per_trial} | {means_ours} | {published_means} |"
    )


def main() -> None:
    default = "reproduction/runs/report_repeated_mnist_x2_small"
    root = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    trials = [json.loads(path.read_text()) for path in trial_files(root)]
    trials = [trial for trial in trials if trial["status"] == "complete"]
    if not trials:
        raise SystemExit(f"no finished trials under {root}")
    published = PUBLISHED.get(trials[0]["experiment"])
    if published is None:
        raise SystemExit(
            f"no published per-method numbers for {trials[0]['experiment']!r}; "
            f"expected one of {sorted(PUBLISHED)}"
        )
    sizes = " / ".join(map(str, next(iter(published.values()))[1]))
    print(f"| method | trials | size at 90%, per trial | median | published 25/50/75 "
          f"| accuracy at {sizes}, per trial | mean | published means |")  # fmt: skip
    print("|---" * 8 + "|")
    for method, numbers in published.items():
        group = sorted((t for t in trials if t["method"] == method), key=lambda t: t["trial"])
        if group:
            print(method_row(method, group, numbers))


if __name__ == "__main__":
    main()
