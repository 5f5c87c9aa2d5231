"""Every figure is written as a non-empty PNG and SVG, byte-identical for the same trials."""

from __future__ import annotations

import math

import pytest

from batchbald.errors import InvalidInputError
from batchbald.experiments.plots import (
    label_entropy_curve,
    plot_accuracy,
    plot_relative_time,
    write_all_plots,
)

from .factories import make_trial


def test_all_plots_written(tmp_path, two_methods):
    written = write_all_plots(two_methods, tmp_path)
    assert {p.name for p in written} == {
        f"{name}.{suffix}"
        for name in ("accuracy", "relative_time", "class_histogram", "label_entropy")
        for suffix in ("png", "svg")
    }
    for path in written:
        assert path.stat().st_size > 1000
    assert (tmp_path / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "accuracy.svg").read_text()
    assert "Training-set size" in svg and "Test accuracy" in svg


def test_plots_of_the_same_trials_are_byte_identical(tmp_path, two_methods):
    """Regenerating the committed plots of unchanged trials must not change the files."""
    first = {p.name: p.read_bytes() for p in write_all_plots(two_methods, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_all_plots(two_methods, tmp_path / "b")}
    assert first == second


def test_single_trial_and_stopped_trials(tmp_path):
    # One trial stops early at its target; the other runs on: both plot without error.
    trials = [
        make_trial([0.5, 0.96], stop_reason="target_accuracy"),
        make_trial([0.5, 0.6, 0.7, 0.8], trial=1),
    ]
    assert plot_accuracy(trials, tmp_path / "a.png")[0].exists()


def test_accuracy_curves_carry_forward_only_trials_that_stopped_at_target(tmp_path, monkeypatch):
    """Past a budget-stopped trial's last size only the trials that go on count."""
    from batchbald.experiments import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda figure, path: figures.append(figure) or [])
    longer = make_trial([0.5, 0.6, 0.7], trial=1)  # sizes 20, 30, 40
    medians = {}
    for stop_reason, last in (("label_budget", 0.6), ("target_accuracy", 0.96)):
        plot_accuracy([make_trial([0.5, last], stop_reason=stop_reason), longer], tmp_path / "a")
        (line,) = figures[-1].axes[0].get_lines()
        medians[stop_reason] = dict(zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert medians["label_budget"][40] == pytest.approx(70.0)  # the longer trial alone
    assert medians["target_accuracy"][40] == pytest.approx(83.0)  # median of 96 and 70


def test_legend_counts_trials_per_method(tmp_path, two_methods):
    one = [make_trial([0.5, 0.6], method="random_b5")]
    plot_accuracy([*two_methods, *one], tmp_path / "a.svg")
    svg = (tmp_path / "a.svg").read_text()
    assert "batchbald_b10 (3 trials)" in svg and "random_b5 (1 trial)" in svg
    assert "(1 trials)" not in svg


def test_label_entropy_of_uniform_acquisitions():
    # Labels cycle through all 10 classes, one full cycle per step: entropy log(10).
    trial = make_trial([0.5, 0.6, 0.7], batch_size=10)
    acquired, entropies = label_entropy_curve(trial)
    assert acquired == [10, 20]
    assert entropies == pytest.approx([math.log(10)] * 2)


def test_bad_inputs(tmp_path, two_methods):
    with pytest.raises(InvalidInputError, match="at least one trial"):
        plot_accuracy([], tmp_path / "a.png")
    with pytest.raises(InvalidInputError, match="reference must be one of"):
        plot_relative_time(two_methods, tmp_path / "t.png", reference="nope")
