"""Issue 6, the subsample check: does building the pool from 15,000 MNIST images instead of
60,000 (the one deviation of step 3's configuration) change step 2's conclusions?

Compares the finished trials of step 2 (``configs/repeated_mnist.toml``, full pool) with those
of the same experiment on the subsample (``configs/repeated_mnist_small.toml``), method by
method: the Table-1 metric at 90% (N_first − b; quartiles over trials, numpy "nearest") and the
median accuracy at 100 labels (the paper's Repeated-MNIST figure), then the order of the methods
by each statistic in both settings. The conclusion is "unchanged" when both orders agree.

    .venv/bin/python reproduction/subsample_check.py \
        [reproduction/runs/repeated_mnist reproduction/runs/repeated_mnist_small]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from batchbald.errors import DataError
from batchbald.experiments.report import MethodSummary, summarise
from batchbald.experiments.results import load_trials

THRESHOLD = 0.90
SIZE = 100


def summaries(path: str) -> dict[str, MethodSummary]:
    """Finished trials under ``path`` summarised per method."""
    try:
        trials = load_trials([path], include_partial=False)
    except DataError as error:
        raise SystemExit(str(error)) from None
    return {s.method: s for s in summarise(trials, thresholds=(THRESHOLD,), sizes=(SIZE,))}


def order(values: dict[str, float], *, descending: bool) -> list[str]:
    """Methods from best to worst (ties broken by name; NaN, i.e. no trial, last)."""
    sign = -1.0 if descending else 1.0
    return sorted(values, key=lambda m: (math.isnan(values[m]), sign * values[m], m))


def _mark(value: float) -> str:
    return "–" if math.isnan(value) else ">budget" if math.isinf(value) else f"{value:.0f}"


def compare(full: dict[str, MethodSummary], sub: dict[str, MethodSummary]) -> list[str]:
    """Markdown lines: the per-method table, then each statistic's order in both settings."""
    methods = [method for method in full if method in sub]
    lines = [
        f"| method | trials (full / subsample) | {THRESHOLD:.0%} mark, full pool (25/50/75) "
        f"| subsample (25/50/75) | accuracy at {SIZE}, full pool (median %) | subsample |",
        "|---|---|---|---|---|---|",
    ]
    for method in methods:
        f, s = full[method], sub[method]
        f_marks = " / ".join(map(_mark, f.marks[THRESHOLD]))
        s_marks = " / ".join(map(_mark, s.marks[THRESHOLD]))
        lines.append(
            f"| {method} | {f.complete} / {s.complete} | {f_marks} | {s_marks} "
            f"| {100 * f.accuracy[SIZE]:.1f} | {100 * s.accuracy[SIZE]:.1f} |"
        )
    statistics = (
        (f"median {THRESHOLD:.0%} mark (fewest labels first)", False,
         lambda summary: summary.marks[THRESHOLD][1]),
        (f"median accuracy at {SIZE} (highest first)", True,
         lambda summary: summary.accuracy[SIZE]),
    )  # fmt: skip
    lines.append("")
    for name, descending, value in statistics:
        orders = [
            order({m: value(setting[m]) for m in methods}, descending=descending)
            for setting in (full, sub)
        ]
        verdict = "same order" if orders[0] == orders[1] else "ORDER CHANGED"
        lines.append(
            f"- {name}, best to worst: full pool {', '.join(orders[0])}; "
            f"subsample {', '.join(orders[1])}: {verdict}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", nargs="?", default="reproduction/runs/repeated_mnist")
    parser.add_argument("subsample", nargs="?", default="reproduction/runs/repeated_mnist_small")
    args = parser.parse_args(argv)
    print("\n".join(compare(summaries(args.full), summaries(args.subsample))))


if __name__ == "__main__":
    main()
