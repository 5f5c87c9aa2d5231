"""Figures of the papers from trial results (matplotlib, no pyplot: safe in any process).

Every function groups trials by (experiment, method), draws one line per method and writes a
PNG and an SVG next to each other (``path`` with both suffixes); it returns the written paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from batchbald.atomic import atomic_write
from batchbald.errors import InvalidInputError
from batchbald.experiments.results import TrialResult

__all__ = [
    "carried_forward",
    "plot_accuracy",
    "plot_class_histogram",
    "plot_label_entropy",
    "plot_relative_time",
    "save_figure",
    "write_all_plots",
]


def _groups(trials: Sequence[TrialResult]) -> dict[str, list[TrialResult]]:
    if not trials:
        raise InvalidInputError("trials must hold at least one trial result to plot; got none")
    experiments = {trial.experiment for trial in trials}
    groups: dict[str, list[TrialResult]] = {}
    for trial in trials:
        label = trial.method if len(experiments) == 1 else f"{trial.experiment}/{trial.method}"
        groups.setdefault(label, []).append(trial)
    return groups


def carried_forward(
    xs: Sequence[float], ys: Sequence[float], grid: Sequence[float], *, past_end: bool = True
) -> np.ndarray:
    """``ys`` at each grid point: the value of the last x ≤ grid point (NaN before the first).

    With ``past_end=False`` the grid points after the last x are NaN too (the curve ends).

    >>> carried_forward([20, 30], [0.5, 0.7], [10, 20, 25, 40]).tolist()
    [nan, 0.5, 0.5, 0.7]
    >>> carried_forward([20, 30], [0.5, 0.7], [10, 20, 25, 40], past_end=False).tolist()
    [nan, 0.5, 0.5, nan]
    """
    xs_array, ys_array = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    grid_array = np.asarray(grid, dtype=float)
    positions = np.searchsorted(xs_array, grid_array, side="right") - 1
    values = ys_array[np.clip(positions, 0, None)] if len(ys_array) else np.zeros(len(grid))
    valid = positions >= 0
    if not past_end and len(xs_array):
        valid &= grid_array <= xs_array[-1]
    return np.where(valid, values, math.nan)


def _band(
    axes,
    label: str,
    group: list[TrialResult],
    series: Callable[[TrialResult], tuple],
    past_end: Callable[[TrialResult], bool] = lambda trial: True,
) -> None:
    """Median line and 25–75% band of ``series(trial) -> (xs, ys)`` over the trials.

    A trial's last value stands for the larger sizes only where ``past_end(trial)``.
    """
    curves = [series(trial) for trial in group]
    grid = np.unique(np.concatenate([np.asarray(xs, dtype=float) for xs, _ in curves]))
    values = np.stack(
        [
            carried_forward(xs, ys, grid, past_end=past_end(trial))
            for trial, (xs, ys) in zip(group, curves, strict=True)
        ]
    )
    valid = ~np.isnan(values).all(axis=0)
    grid, values = grid[valid], values[:, valid]
    low, median, high = np.nanpercentile(values, [25, 50, 75], axis=0)
    count = f"{len(group)} trial" + ("" if len(group) == 1 else "s")
    (line,) = axes.plot(grid, median, label=f"{label} ({count})", linewidth=1.8)
    if len(group) > 1:
        axes.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, linewidth=0)


#: Byte-identical files for identical results (no dates, no random SVG ids), so regenerating the
#: plots of unchanged trials leaves a committed copy unchanged.
_REPRODUCIBLE = {".png": {"Software": None}, ".svg": {"Date": None}}


def save_figure(figure: Figure, path: str | Path) -> list[Path]:
    """Save ``figure`` as ``path`` with suffix .png and .svg (reproducible bytes); both paths.

    Each file is written atomically (:func:`batchbald.atomic.atomic_write`).
    """
    import matplotlib

    path = Path(path)
    written = []
    with matplotlib.rc_context({"svg.hashsalt": "batchbald"}):
        for suffix, metadata in _REPRODUCIBLE.items():
            target = path.with_suffix(suffix)
            atomic_write(
                target,
                lambda handle, suffix=suffix, metadata=metadata: figure.savefig(
                    handle, format=suffix[1:], dpi=150, bbox_inches="tight", metadata=metadata
                ),
            )
            written.append(target)
    return written


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, object]:
    figure = Figure(figsize=(7.0, 4.5))
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    return figure, axes


def plot_accuracy(trials: Sequence[TrialResult], path: str | Path) -> list[Path]:
    """Test accuracy (%) vs training-set size: median over trials with the 25–75% band.

    A trial that stopped at its target accuracy carries it forward; a trial that stopped at
    its label budget (or is still running) ends there, and so does the curve once no trial
    goes on.
    """
    figure, axes = _figure(
        "Test accuracy (median, 25–75% band)",
        "Training-set size (labelled points)",
        "Test accuracy (%)",
    )
    for label, group in _groups(trials).items():
        _band(
            axes,
            label,
            group,
            lambda t: (t.sizes, [100 * a for a in t.accuracies]),
            past_end=lambda t: t.stopped_at_target,
        )
    axes.legend(loc="lower right")
    return save_figure(figure, path)


def _cumulative_seconds(trial: TrialResult) -> tuple[list[int], np.ndarray]:
    return trial.sizes, np.cumsum(trial.step_seconds())


def plot_relative_time(
    trials: Sequence[TrialResult], path: str | Path, reference: str | None = None
) -> list[Path]:
    """Cumulative wall time vs size, relative to ``reference``'s total (BatchBALD fig. 6).

    Args:
        trials: the trials to plot, grouped by method.
        path: the PNG file (an SVG is written next to it).
        reference: the method whose median cumulative time at its largest size is 1.0; the
            first method by default.

    Returns:
        The files written.
    """
    groups = _groups(trials)
    reference = reference or next(iter(groups))
    if reference not in groups:
        raise InvalidInputError(f"reference must be one of {sorted(groups)}; got {reference!r}")
    scale = float(np.median([_cumulative_seconds(t)[1][-1] for t in groups[reference]])) or 1.0
    figure, axes = _figure(
        "Cumulative wall time (median)",
        "Training-set size (labelled points)",
        f"Wall time relative to {reference} (×{scale:.0f} s)",
    )
    for label, group in groups.items():
        _band(axes, label, group, lambda t: (t.sizes, _cumulative_seconds(t)[1] / scale))
    axes.legend(loc="upper left")
    return save_figure(figure, path)


def _acquired_labels(trial: TrialResult) -> list[list[int]]:
    return [list(step.get("acquired", {}).get("labels", [])) for step in trial.steps]


def plot_class_histogram(trials: Sequence[TrialResult], path: str | Path) -> list[Path]:
    """Acquired points per class, mean per trial, one bar group per class (BatchBALD fig. 9)."""
    groups = _groups(trials)
    first = trials[0]
    num_classes = first.num_classes
    names = list(first.class_names) or [str(c) for c in range(num_classes)]
    figure, axes = _figure(
        "Classes of the acquired points", "Class", "Acquired points (mean per trial)"
    )
    figure.set_size_inches(max(7.0, 0.25 * num_classes * len(groups)), 4.5)
    width = 0.8 / len(groups)
    for offset, (label, group) in enumerate(groups.items()):
        counts = np.zeros(num_classes)
        for trial in group:
            labels = [y for step in _acquired_labels(trial) for y in step]
            counts += np.bincount(np.asarray(labels, dtype=int), minlength=num_classes)[
                :num_classes
            ]
        positions = np.arange(num_classes) + (offset - (len(groups) - 1) / 2) * width
        axes.bar(positions, counts / len(group), width=width, label=label)
    axes.set_xticks(np.arange(num_classes), names, fontsize=8 if num_classes > 20 else 10)
    axes.legend()
    return save_figure(figure, path)


def label_entropy_curve(trial: TrialResult) -> tuple[list[int], list[float]]:
    """Entropy (nats) of the label histogram of all points acquired so far, after each step."""
    counts = np.zeros(trial.num_classes)
    acquired, entropies, total = [], [], 0
    for labels in _acquired_labels(trial):
        if not labels:
            continue
        counts += np.bincount(np.asarray(labels, dtype=int), minlength=trial.num_classes)
        total += len(labels)
        probs = counts[counts > 0] / counts.sum()
        acquired.append(total)
        entropies.append(float(-(probs * np.log(probs)).sum()))
    return acquired, entropies


def plot_label_entropy(trials: Sequence[TrialResult], path: str | Path) -> list[Path]:
    """Entropy of the acquired-label distribution vs acquired points (BatchBALD fig. 8)."""
    figure, axes = _figure(
        "Diversity of acquired labels", "Acquired points", "Entropy of acquired labels (nats)"
    )
    for label, group in _groups(trials).items():
        if any(label_entropy_curve(trial)[0] for trial in group):
            _band(axes, label, [t for t in group if label_entropy_curve(t)[0]], label_entropy_curve)
    axes.axhline(math.log(trials[0].num_classes), color="grey", linestyle="--", label="uniform")
    axes.legend(loc="lower right")
    return save_figure(figure, path)


def write_all_plots(
    trials: Sequence[TrialResult], out_dir: str | Path, *, time_reference: str | None = None
) -> list[Path]:
    """The four figures in ``out_dir``: accuracy, relative_time, class_histogram, label_entropy.

    ``time_reference`` is the method whose total time is 1.0 in relative_time (default: first).
    """
    out_dir = Path(out_dir)
    return [
        *plot_accuracy(trials, out_dir / "accuracy.png"),
        *plot_relative_time(trials, out_dir / "relative_time.png", time_reference),
        *plot_class_histogram(trials, out_dir / "class_histogram.png"),
        *plot_label_entropy(trials, out_dir / "label_entropy.png"),
    ]
