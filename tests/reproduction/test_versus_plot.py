"""reproduction/versus_plot.py: the published numbers it draws, its curve statistic (checked
against hand-computed values) and the figure it writes from trial files written here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import versus_plot

from batchbald.experiments.results import FORMAT, TrialResult


def _payload(experiment: str, method: str, trial: int, accuracies: list[float], *,
             batch_size: int = 10, status: str = "complete") -> dict:  # fmt: skip
    steps = [
        {"train_size": 20 + batch_size * i, "test_accuracy": a} for i, a in enumerate(accuracies)
    ]
    return {"format": FORMAT, "experiment": experiment, "method": method, "trial": trial,
            "seed": trial, "batch_size": batch_size, "label_budget": 300, "num_classes": 10,
            "status": status, "steps": steps}  # fmt: skip


def _trial(accuracies: list[float], trial: int = 0, **kwargs) -> TrialResult:
    return TrialResult.from_payload(
        _payload("report_repeated_mnist_x2_small", "bald_b10", trial, accuracies, **kwargs)
    )


def test_published_converts_paper_marks_to_first_sizes_and_picks_the_statistic():
    statistic, curves, firsts = versus_plot.published("mnist_b10")
    assert statistic == "median"  # the BatchBALD paper publishes medians
    assert curves["bald_b10"][100] == 86.1
    assert firsts["batchbald_b10"] == (80, 100, 120)  # marks 70 / 90 / 110 plus b = 10
    _, _, firsts = versus_plot.published("repeated_mnist_small")  # step 2's published numbers
    assert firsts["random_b5"] == (190, 200, 230)  # marks 185 / 195 / 225 plus b = 5
    assert firsts["bald_b10"] == (270, 290, math.inf)
    statistic, curves, firsts = versus_plot.published("report_repeated_mnist_x2_small")
    assert statistic == "mean" and curves["power_bald_b10"] == {100: 88.3, 200: 93.7, 300: 95.4}
    assert firsts["bald_b10"] == (213, 220, 263)  # the report gives N_first itself
    assert "power_bald_b10" not in versus_plot.published("tmlr_repeated_mnist_x4")[2]
    with pytest.raises(SystemExit, match="no published numbers for 'demo'"):
        versus_plot.published("demo")


def test_curve_statistic_and_band_carry_a_stopped_trial_forward():
    trials = [_trial([0.5, 0.7, 0.9]), _trial([0.6, 0.8], trial=1), _trial([0.4, 0.9, 0.95], 2)]
    sizes, centre, low, high = versus_plot.curve(trials, "mean")
    np.testing.assert_array_equal(sizes, [20, 30, 40])
    # Trial 1 stopped at 30 and carries 80% to 40.
    np.testing.assert_allclose(centre, [50, 80, (90 + 80 + 95) / 3])
    np.testing.assert_allclose(low, [40, 70, 80])
    np.testing.assert_allclose(high, [60, 90, 95])
    np.testing.assert_allclose(versus_plot.curve(trials, "median")[1], [50, 80, 90])


def test_first_sizes_are_n_first_with_infinity_for_never():
    assert versus_plot.first_sizes([_trial([0.5, 0.91]), _trial([0.5, 0.8])]) == [30, math.inf]


def test_main_writes_png_and_svg_from_finished_trials(tmp_path, capsys):
    runs = tmp_path / "runs"
    for method, batch in (("bald_b10", 10), ("random_b5", 5), ("power_bald_b10", 10)):
        folder = runs / method
        folder.mkdir(parents=True)
        for trial in range(2):
            accuracies = [0.6, 0.85, 0.9 + 0.01 * trial, 0.93]
            payload = _payload("report_repeated_mnist_x2_small", method, trial, accuracies,
                               batch_size=batch)  # fmt: skip
            (folder / f"trial_{trial}.json").write_text(json.dumps(payload))
    running = _payload("report_repeated_mnist_x2_small", "bald_b10", 2, [0.1], status="running")
    (runs / "bald_b10" / "trial_2.json").write_text(json.dumps(running))
    versus_plot.main([str(runs), "--out", str(tmp_path / "figure" / "versus")])
    assert (tmp_path / "figure" / "versus.png").stat().st_size > 0
    assert (tmp_path / "figure" / "versus.svg").stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


def test_main_names_missing_folders_and_unpublished_methods(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        versus_plot.main([str(tmp_path / "missing")])
    folder = tmp_path / "runs" / "softmax_bald_b10"
    folder.mkdir(parents=True)
    payload = _payload("tmlr_repeated_mnist_x4", "softmax_bald_b10", 0, [0.5, 0.9])
    (folder / "trial_0.json").write_text(json.dumps(payload))
    with pytest.raises(SystemExit, match="no finished trials of a published method"):
        versus_plot.main([str(tmp_path / "runs"), "--out", str(tmp_path / "x")])
