"""The papers' summary numbers from trial results, as a terminal table, Markdown or CSV.

* Table-1 metric (BatchBALD §5): for a trial, ``N_first - b`` with ``N_first`` the first
  training-set size whose model reaches the threshold; infinity when it never does (printed
  ``>budget``). Quartiles over trials use numpy's "nearest" method.
* Accuracy at chosen training-set sizes: median over the trials that got there. A trial that
  stopped at its target accuracy carries its last accuracy forward (the papers' convention);
  one that stopped at its label budget, or is still running, did not reach the sizes after its
  last step, and a size no trial reached prints ``n/r`` (with a legend line under the table).
* Time to reach a threshold: cumulative wall time of the steps up to the first success.
* Acquisition time per step: median over every acquiring step of every trial (the cost of the
  acquisition function alone, without training and pool scoring).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from batchbald.errors import InvalidInputError
from batchbald.experiments.results import TrialResult

#: The accuracy cell of a size that no trial of the method reached.
NOT_REACHED = "n/r"
NOT_REACHED_LEGEND = (
    f"{NOT_REACHED}: not reached: every trial stopped at its label budget (or is still running) "
    "before this size; a trial that stopped at its target accuracy carries it forward."
)

__all__ = [
    "MethodSummary",
    "accuracy_at",
    "format_table",
    "quartiles",
    "reached",
    "summarise",
    "threshold_mark",
    "time_to_threshold",
]


def threshold_mark(trial: TrialResult, threshold: float) -> float:
    """``N_first - b`` for ``trial``, or ``inf`` when no step reaches ``threshold``."""
    for size, accuracy in zip(trial.sizes, trial.accuracies, strict=True):
        if accuracy >= threshold:
            return float(size - trial.batch_size)
    return math.inf


def time_to_threshold(trial: TrialResult, threshold: float) -> float:
    """Seconds of wall time (all phases) until the first step at ``threshold``; inf if never."""
    elapsed = 0.0
    for seconds, accuracy in zip(trial.step_seconds(), trial.accuracies, strict=True):
        elapsed += seconds
        if accuracy >= threshold:
            return elapsed
    return math.inf


def reached(trial: TrialResult, size: int) -> bool:
    """Whether ``trial`` has an accuracy at training-set ``size``.

    True up to its last step's size, and beyond it only if the trial stopped at its target
    accuracy (which then carries forward); False for a trial that stopped at its label budget
    or is still running.
    """
    return bool(trial.sizes) and (size <= trial.sizes[-1] or trial.stopped_at_target)


def accuracy_at(trial: TrialResult, size: int) -> float:
    """Test accuracy of the last step with training-set size ≤ ``size``.

    NaN before the first step, and NaN where the trial did not :func:`reach <reached>` ``size``.
    """
    value = math.nan
    if not reached(trial, size):
        return value
    for step_size, accuracy in zip(trial.sizes, trial.accuracies, strict=True):
        if step_size > size:
            break
        value = accuracy
    return value


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """25th, 50th and 75th percentiles with numpy's "nearest" method (inf allowed, NaN dropped).

    >>> quartiles([70.0, 90.0, 110.0, 80.0, math.inf, 100.0])
    (80.0, 90.0, 110.0)
    """
    array = np.asarray([value for value in values if not math.isnan(value)], dtype=np.float64)
    if array.size == 0:
        return (math.nan, math.nan, math.nan)
    q25, q50, q75 = np.percentile(array, [25, 50, 75], method="nearest")
    return float(q25), float(q50), float(q75)


def _median(values: Sequence[float]) -> float:
    """Median ignoring NaN (NaN when every value is NaN)."""
    kept = [value for value in values if not math.isnan(value)]
    return float(np.median(kept)) if kept else math.nan


@dataclass(frozen=True)
class MethodSummary:
    """Summary numbers of one method over its trials."""

    experiment: str
    method: str
    batch_size: int
    label_budget: int
    trials: int
    complete: int
    marks: dict[float, tuple[float, float, float]] = field(default_factory=dict)
    accuracy: dict[int, float] = field(default_factory=dict)
    seconds: dict[float, float] = field(default_factory=dict)
    acquisition_seconds: float = math.nan
    not_reached: tuple[int, ...] = ()


def summarise(
    trials: Sequence[TrialResult],
    thresholds: Sequence[float] = (0.9, 0.95),
    sizes: Sequence[int] = (),
) -> list[MethodSummary]:
    """One :class:`MethodSummary` per (experiment, method), in first-seen order."""
    for threshold in thresholds:
        if not 0.0 < threshold <= 1.0:
            raise InvalidInputError(f"thresholds must lie in (0, 1]; got {threshold}")
    groups: dict[tuple[str, str], list[TrialResult]] = {}
    for trial in trials:
        groups.setdefault((trial.experiment, trial.method), []).append(trial)
    summaries = []
    for (experiment, method), group in groups.items():
        summaries.append(
            MethodSummary(
                experiment=experiment,
                method=method,
                batch_size=group[0].batch_size,
                label_budget=max(trial.label_budget for trial in group),
                trials=len(group),
                complete=sum(trial.complete for trial in group),
                marks={t: quartiles([threshold_mark(g, t) for g in group]) for t in thresholds},
                accuracy={s: _median([accuracy_at(g, s) for g in group]) for s in sizes},
                seconds={
                    t: quartiles([time_to_threshold(g, t) for g in group])[1] for t in thresholds
                },
                acquisition_seconds=_median([s for g in group for s in g.acquisition_seconds()]),
                not_reached=tuple(s for s in sizes if not any(reached(g, s) for g in group)),
            )
        )
    return summaries


def _mark(value: float, budget: int) -> str:
    if math.isnan(value):
        return "-"
    return f">{budget}" if math.isinf(value) else f"{value:g}"


def _seconds(value: float) -> str:
    """Three significant digits: acquisition times range from milliseconds to minutes."""
    return "-" if math.isnan(value) else f"{value:.3g}"


def _accuracy(value: float, not_reached: bool) -> str:
    if not_reached:
        return NOT_REACHED
    return "-" if math.isnan(value) else f"{100 * value:.1f}"


def _rows(summaries: Sequence[MethodSummary]) -> tuple[list[str], list[list[str]]]:
    first = summaries[0]
    header = ["experiment", "method", "b", "trials"]
    header += [f"{t:.0%} (25/50/75)" for t in first.marks]
    header += [f"acc@{s} %" for s in first.accuracy]
    header += [f"time→{t:.0%} s" for t in first.seconds]
    header += ["acq s/step"]
    rows = []
    for summary in summaries:
        trials = f"{summary.trials}" + (
            f" ({summary.trials - summary.complete} partial)"
            if summary.complete < summary.trials
            else ""
        )
        row = [summary.experiment, summary.method, str(summary.batch_size), trials]
        row += [
            " / ".join(_mark(v, summary.label_budget) for v in q) for q in summary.marks.values()
        ]
        row += [_accuracy(a, s in summary.not_reached) for s, a in summary.accuracy.items()]
        row += [
            "-" if math.isnan(s) else (f">{summary.label_budget}" if math.isinf(s) else f"{s:.0f}")
            for s in summary.seconds.values()
        ]
        row.append(_seconds(summary.acquisition_seconds))
        rows.append(row)
    return header, rows


def format_table(summaries: Sequence[MethodSummary], style: str = "table") -> str:
    """Render summaries as ``"table"`` (aligned text), ``"markdown"`` or ``"csv"``.

    Time cells that never reach the threshold print ``>budget`` like the marks (the trial's
    label budget was exhausted first). Accuracy cells at a size no trial reached print ``n/r``,
    explained by a legend line under a "table" or "markdown" table (CSV holds only the cells).
    """
    if not summaries:
        return ""
    header, rows = _rows(summaries)
    legend = "\n" + NOT_REACHED_LEGEND + "\n" if any(s.not_reached for s in summaries) else ""
    if style == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()
    if style == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n" + legend
    if style != "table":
        raise InvalidInputError(f"style must be 'table', 'markdown' or 'csv'; got {style!r}")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n" + legend
