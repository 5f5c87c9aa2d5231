"""Our accuracy curves next to the published numbers, one figure per experiment (issue 6).

Top panel: per method, our finished trials' accuracy curve — the statistic the paper publishes
(median for the BatchBALD paper's experiments, mean for the report's and the TMLR paper's) with
a min–max band over the trials — and the published values as diamonds in the same colour.
Bottom panel: the training-set size at which 90% is first reached (N_first), ours (circles: the
trials' min, median and max) against the published quartiles (diamonds: 25th, 50th, 75th); an
arrow marks "not reached within the budget".

    .venv/bin/python reproduction/versus_plot.py reproduction/runs/report_repeated_mnist_x2_small
    # -> docs/reproduction/report_repeated_mnist_x2_small/versus.png and .svg (--out to change)

Published values: docs/protocol.md §1 (BatchBALD paper; Table-1 marks N_first − b, converted here to
N_first), §2 (the report) and §3 (TMLR), as ``progress.py`` and ``versus.py`` hold them.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

import numpy as np
import progress
import versus

from batchbald.errors import DataError
from batchbald.experiments.plots import carried_forward, save_figure
from batchbald.experiments.report import threshold_mark
from batchbald.experiments.results import TrialResult, load_trials

INF = math.inf

#: BatchBALD paper (docs/protocol.md §1): quartiles of the Table-1 mark N_first − b at 90% (b = 10,
#: random b = 5); ">300" is infinity.
_PAPER_MARKS_90 = {
    "mnist_b10": {"batchbald_b10": (70, 90, 110), "bald_b10": (120, 120, 170)},
    "repeated_mnist": {
        "batchbald_b10": (120, 120, 130),
        "bald_b10": (260, 280, INF),
        "random_b5": (185, 195, 225),
    },
}
_PAPER_MARKS_90["repeated_mnist_small"] = _PAPER_MARKS_90["repeated_mnist"]
_BATCH_SIZES = {"batchbald_b10": 10, "bald_b10": 10, "random_b5": 5}


def published(experiment: str) -> tuple[str, dict[str, dict[int, float]], dict[str, tuple]]:
    """``(statistic, {method: {size: accuracy %}}, {method: N_first quartiles at 90%})``.

    Raises:
        SystemExit: no published numbers for ``experiment``.
    """
    if experiment in versus.PUBLISHED:
        numbers = versus.PUBLISHED[experiment]
        curves = {method: means for method, (_, means) in numbers.items()}
        firsts = {method: q for method, (q, _) in numbers.items() if q is not None}
        return "mean", curves, firsts
    source = "repeated_mnist" if experiment == "repeated_mnist_small" else experiment
    if source in progress.PUBLISHED:
        firsts = {
            method: tuple(mark + _BATCH_SIZES[method] for mark in marks)
            for method, marks in _PAPER_MARKS_90[source].items()
        }
        return "median", progress.PUBLISHED[source], firsts
    known = sorted({*versus.PUBLISHED, *progress.PUBLISHED, "repeated_mnist_small"})
    raise SystemExit(f"no published numbers for {experiment!r}; expected one of {known}")


def curve(trials: list[TrialResult], statistic: str) -> tuple[np.ndarray, ...]:
    """``(sizes, centre, low, high)`` in %: ``statistic`` ("mean" or "median") and the min–max
    band of the trials' accuracies, each carried forward to every size any trial recorded.
    """
    grid = np.unique(np.concatenate([np.asarray(trial.sizes, dtype=float) for trial in trials]))
    values = 100 * np.stack(
        [carried_forward(trial.sizes, trial.accuracies, grid) for trial in trials]
    )
    centre = np.mean(values, axis=0) if statistic == "mean" else np.median(values, axis=0)
    return grid, centre, values.min(axis=0), values.max(axis=0)


def first_sizes(trials: list[TrialResult]) -> list[float]:
    """N_first at 90% per trial (infinity where the trial never reached it)."""
    return [threshold_mark(trial, 0.90) + trial.batch_size for trial in trials]


def plot(trials: list[TrialResult], path: Path) -> list[Path]:
    from matplotlib.figure import Figure

    experiment = trials[0].experiment
    statistic, curves, firsts = published(experiment)
    groups: dict[str, list[TrialResult]] = {}
    for trial in trials:
        groups.setdefault(trial.method, []).append(trial)
    methods = [method for method in curves if method in groups]
    if not methods:
        raise SystemExit(f"no finished trials of a published method ({', '.join(curves)})")
    figure = Figure(figsize=(7.5, 7.0))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.4))
    top.set_title(f"{experiment}: ours ({statistic}, min–max band) vs published ◆")
    top.set_ylabel("Test accuracy (%)")
    bottom.set_xlabel("Training-set size (labelled points)")
    bottom.set_title("Size at which 90% is first reached: ours ● (min, median, max), "
                     "published ◆ (25/50/75)", fontsize=9)  # fmt: skip
    budget = max(trial.sizes[-1] for trial in trials)
    for row, method in enumerate(methods):
        group = groups[method]
        sizes, centre, low, high = curve(group, statistic)
        count = f"{len(group)} trial" + ("" if len(group) == 1 else "s")
        (line,) = top.plot(sizes, centre, linewidth=1.8, label=f"{method} ({count})")
        colour = line.get_color()
        top.fill_between(sizes, low, high, color=colour, alpha=0.15, linewidth=0)
        paper = curves[method]
        top.scatter(list(paper), list(paper.values()), marker="D", s=40, color=colour,
                    edgecolors="black", zorder=3)  # fmt: skip
        ours = sorted(first_sizes(group))
        _interval(bottom, row + 0.15, [ours[0], statistics.median(ours), ours[-1]], "o",
                  colour, budget)  # fmt: skip
        if method in firsts:
            _interval(bottom, row - 0.15, list(firsts[method]), "D", colour, budget)
    top.axhline(90, color="grey", linewidth=0.8, linestyle=":")
    top.grid(True, alpha=0.3)
    top.legend(loc="lower right", fontsize=8)
    bottom.set_yticks(range(len(methods)), methods, fontsize=8)
    bottom.set_ylim(-0.6, len(methods) - 0.4)
    bottom.invert_yaxis()
    bottom.grid(True, axis="x", alpha=0.3)
    return save_figure(figure, path)


def _interval(axes, y: float, values: list[float], marker: str, colour, budget: int) -> None:
    """A low–high segment with a marker at the middle value; infinity drawn as an arrow."""
    edge = budget + 15
    shown = [min(value, edge) for value in values]
    axes.plot([shown[0], shown[2]], [y, y], color=colour, linewidth=2)
    axes.scatter([shown[1]], [y], marker=marker, s=36, color=colour, edgecolors="black", zorder=3)
    if math.isinf(values[2]):
        axes.annotate("", xy=(edge + 12, y), xytext=(edge, y),
                      arrowprops={"arrowstyle": "->", "color": colour})  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", help="an experiment folder, e.g. reproduction/runs/mnist_b10")
    parser.add_argument("--out", help="figure path without suffix (PNG and SVG are written); "
                        "default docs/reproduction/<experiment>/versus")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        trials = load_trials([args.runs], include_partial=False)
    except DataError as error:
        raise SystemExit(str(error)) from None
    if not trials:
        raise SystemExit(f"no finished trials under {args.runs}")
    out = Path(args.out or f"docs/reproduction/{trials[0].experiment}/versus")
    for written in plot(trials, out):
        print(f"wrote {written}")


if __name__ == "__main__":
    main()
