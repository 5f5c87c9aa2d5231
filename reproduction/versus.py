"""Our finished trials next to the published numbers, per method, for the experiments whose
papers report per-method summaries (issue 6, steps 3 and 4): the size at which 90% is first
reached (N_first) per trial against the published quartiles, and the accuracy at the published
sizes per trial against the published means; our median N_first and mean accuracies beside them
(the statistics the papers give).

    .venv/bin/python reproduction/versus.py reproduction/runs/report_repeated_mnist_x2_small
    .venv/bin/python reproduction/versus.py reproduction/runs/tmlr_repeated_mnist_x4

Published values: docs/protocol.md §2 (PowerEvaluationBALD report, Repeated-MNIST ×2, b = 10; random
at b = 5) and §3 (TMLR 2023, Repeated-MNIST ×4, b = 10).
"""

from __future__ import annotations

import math
import statistics
import sys

from batchbald.errors import DataError
from batchbald.experiments.report import accuracy_at, threshold_mark
from batchbald.experiments.results import TrialResult, load_trials

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
        "badge_b10": (None, {300: 92.5}),  # TMLR tables: 92.50 ± 0.41 (issue 24)
    },
}


def _number(value: float, digits: int = 1) -> str:
    return ">last" if math.isinf(value) else f"{value:.{digits}f}"


def method_row(method: str, trials: list[TrialResult], published) -> str:
    quartiles, means = published
    sizes = list(means)
    # N_first = the Table-1 mark + b; never reached: infinity (docs/protocol.md §1), ">last".
    firsts = [threshold_mark(trial, 0.90) + trial.batch_size for trial in trials]
    per_trial = "; ".join(
        " / ".join(_number(100 * accuracy_at(trial, size)) for size in sizes) for trial in trials
    )
    means_ours = " / ".join(
        _number(100 * statistics.mean(accuracy_at(trial, size) for trial in trials))
        for size in sizes
    )
    published_quartiles = " / ".join(map(str, quartiles)) if quartiles else "—"
    published_means = " / ".join(f"{means[size]:.1f}" for size in sizes)
    return (
        f"| {method} | {len(trials)} | {', '.join(_number(f, 0) for f in firsts)} "
        f"| {_number(statistics.median(firsts), 0)} | {published_quartiles} | {per_trial} "
        f"| {means_ours} | {published_means} |"
    )


def main() -> None:
    default = "reproduction/runs/report_repeated_mnist_x2_small"
    root = sys.argv[1] if len(sys.argv) > 1 else default
    try:
        trials = load_trials([root], include_partial=False)
    except DataError as error:
        raise SystemExit(str(error)) from None
    if not trials:
        raise SystemExit(f"no finished trials under {root}")
    published = PUBLISHED.get(trials[0].experiment)
    if published is None:
        raise SystemExit(
            f"no published per-method numbers for {trials[0].experiment!r}; "
            f"expected one of {sorted(PUBLISHED)}"
        )
    sizes = " / ".join(map(str, next(iter(published.values()))[1]))
    print(f"| method | trials | size at 90%, per trial | median | published 25/50/75 "
          f"| accuracy at {sizes}, per trial | mean | published means |")  # fmt: skip
    print("|---" * 8 + "|")
    for method, numbers in published.items():
        group = [trial for trial in trials if trial.method == method]  # sorted by trial
        if group:
            print(method_row(method, group, numbers))


if __name__ == "__main__":
    main()
