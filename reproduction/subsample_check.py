"""Issue 6, the subsample check: does building the pool from 15,000 MNIST images instead of
60,000 (the one deviation of step 3's configuration) change step 2's conclusions?

Compares the finished trials of step 2 (``configs/repeated_mnist.toml``, full pool) with those
of the same experiment on the subsample (``configs/repeated_mnist_small.toml``), method by
method: the Table-1 metric at 90% (N_first − b; quartiles over trials, numpy "nearest") and the
median accuracy at 100 labels (the paper's Repeated-MNIST figure), then the order of the methods
by each statistic in both settings ("same order" or "ORDER CHANGED"). Because three trials
make the medians coarse, it then lists what step 2's conclusions rest on, per trial: each
trial's 90% and 95% marks, how many trials reach 95% within the budget, and for every pair of
methods in how many paired trials (same trial index, hence the same seed and first model) the
first reaches 90% before, together with, or after the second; and per method, exact one-sided
Mann–Whitney p-values for the accuracy at 100 being higher on the subsample, or on the full pool
(three trials against three cannot go below p = 0.05).

    .venv/bin/python reproduction/subsample_check.py \
        [reproduction/runs/repeated_mnist reproduction/runs/repeated_mnist_small] \
        [--plot docs/reproduction/repeated_mnist_small/subsample_check]

``--plot PATH`` also draws both settings' median accuracy curves (min–max bands) per method,
full pool solid and subsample dashed, as ``PATH.png`` and ``PATH.svg``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from exact_tests import mann_whitney_greater
from trial_count_check import tally

from batchbald.errors import DataError
from batchbald.experiments.report import MethodSummary, accuracy_at, summarise, threshold_mark
from batchbald.experiments.results import TrialResult, load_trials

THRESHOLD = 0.90
TARGET = 0.95
SIZE = 100


def finished(path: str) -> list[TrialResult]:
    """The finished trials under ``path``."""
    try:
        return load_trials([path], include_partial=False)
    except DataError as error:
        raise SystemExit(str(error)) from None


def summaries(trials: list[TrialResult]) -> dict[str, MethodSummary]:
    """``trials`` summarised per method."""
    return {s.method: s for s in summarise(trials, thresholds=(THRESHOLD,), sizes=(SIZE,))}


def plot(full: list[TrialResult], sub: list[TrialResult], path: Path) -> list[Path]:
    """Median accuracy curves of the methods both settings ran: full pool solid, subsample
    dashed, one colour per method, min–max bands.
    """
    from matplotlib.figure import Figure
    from versus_plot import curve

    from batchbald.experiments.plots import save_figure

    figure = Figure(figsize=(7.0, 4.5))
    axes = figure.add_subplot()
    axes.set_title("Subsample check: full pool (solid) vs 15,000-image pool (dashed)")
    axes.set_xlabel("Training-set size (labelled points)")
    axes.set_ylabel("Test accuracy (%), median and min–max band")
    methods = sorted({t.method for t in full} & {t.method for t in sub})
    for method in methods:
        colour = None
        for trials, style, name in ((full, "-", "full pool"), (sub, "--", "subsample")):
            group = [trial for trial in trials if trial.method == method]
            sizes, centre, low, high = curve(group, "median")
            label = f"{method}, {name} ({len(group)} trial{'s' * (len(group) > 1)})"
            (line,) = axes.plot(sizes, centre, style, color=colour, linewidth=1.6, label=label)
            colour = line.get_color()
            axes.fill_between(sizes, low, high, color=colour, alpha=0.12, linewidth=0)
    axes.axhline(100 * THRESHOLD, color="grey", linewidth=0.8, linestyle=":")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)


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


def _marks(trials: list[TrialResult], threshold: float) -> dict[str, dict[int, float]]:
    """Per method, per trial index: the Table-1 mark at ``threshold`` (inf if never reached)."""
    marks: dict[str, dict[int, float]] = {}
    for trial in trials:
        marks.setdefault(trial.method, {})[trial.trial] = threshold_mark(trial, threshold)
    return marks


def _paired(first: dict[int, float], second: dict[int, float]) -> str:
    """'before / tied / after of n' over the trial indices both methods finished."""
    return tally([(first[i], second[i]) for i in sorted(first.keys() & second.keys())])


def per_trial(full: list[TrialResult], sub: list[TrialResult]) -> list[str]:
    """Markdown lines: per-trial 90% and 95% marks of both settings, then paired 90% passages."""
    settings = {
        name: (_marks(trials, THRESHOLD), _marks(trials, TARGET))
        for name, trials in (("full", full), ("sub", sub))
    }
    methods = sorted(settings["full"][0].keys() & settings["sub"][0].keys())
    lines = [
        f"| method | {THRESHOLD:.0%} marks per trial, full pool | subsample "
        f"| trials reaching {TARGET:.0%}, full pool | subsample |",
        "|---|---|---|---|---|",
    ]
    for method in methods:
        cells = []
        for name in ("full", "sub"):
            per = settings[name][0][method]
            cells.append(", ".join(f"{_mark(per[i])}" for i in sorted(per)))
        for name in ("full", "sub"):
            per = settings[name][1][method]
            reached = sum(not math.isinf(v) for v in per.values())
            cells.append(f"{reached} of {len(per)}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines.append("")
    for position, first in enumerate(methods):
        for second in methods[position + 1 :]:
            full_pair = _paired(settings["full"][0][first], settings["full"][0][second])
            sub_pair = _paired(settings["sub"][0][first], settings["sub"][0][second])
            lines.append(
                f"- {first} reaches {THRESHOLD:.0%} before / with / after {second} "
                f"(paired trials): full pool {full_pair}; subsample {sub_pair}"
            )
    for method in methods:
        values = [
            [100 * accuracy_at(t, SIZE) for t in trials if t.method == method]
            for trials in (full, sub)
        ]
        lines.append(
            f"- {method}, accuracy at {SIZE}, exact one-sided Mann–Whitney p: subsample higher "
            f"{mann_whitney_greater(values[1], values[0]):.2f}, full pool higher "
            f"{mann_whitney_greater(values[0], values[1]):.2f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("full", nargs="?", default="reproduction/runs/repeated_mnist")
    parser.add_argument("subsample", nargs="?", default="reproduction/runs/repeated_mnist_small")
    parser.add_argument("--plot", type=Path, help="also write the curves to PLOT.png/.svg")
    args = parser.parse_args(argv)
    full, sub = finished(args.full), finished(args.subsample)
    print("\n".join(compare(summaries(full), summaries(sub))))
    print()
    print("\n".join(per_trial(full, sub)))
    if args.plot is not None:
        for written in plot(full, sub, args.plot):
            print(f"wrote {written}", file=sys.stderr)


if __name__ == "__main__":
    main()
