"""reproduction/subsample_check.py: the comparison table and the order verdicts, on
hand-written summaries and on trial files written here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import subsample_check as check

from batchbald.experiments.report import MethodSummary
from batchbald.experiments.results import FORMAT


def _summary(method: str, median_mark: float, accuracy: float) -> MethodSummary:
    return MethodSummary(
        experiment="x", method=method, batch_size=10, label_budget=300, trials=3, complete=3,
        marks={0.9: (median_mark - 10, median_mark, median_mark + 10)},
        accuracy={100: accuracy},
    )  # fmt: skip


def test_order_breaks_ties_by_name_and_puts_missing_last():
    values = {"b": 120.0, "a": 120.0, "c": math.nan, "d": math.inf, "e": 90.0}
    assert check.order(values, descending=False) == ["e", "a", "b", "d", "c"]
    assert check.order({"a": 0.8, "b": 0.9}, descending=True) == ["b", "a"]


def test_same_and_changed_orders():
    full = {"bb": _summary("bb", 120, 0.88), "bald": _summary("bald", 280, 0.77)}
    same = {"bb": _summary("bb", 100, 0.90), "bald": _summary("bald", 190, 0.81)}
    lines = check.compare(full, same)
    assert lines[2] == "| bb | 3 / 3 | 110 / 120 / 130 | 90 / 100 / 110 | 88.0 | 90.0 |"
    verdicts = [line for line in lines if line.startswith("- ")]
    assert len(verdicts) == 2 and all(line.endswith(": same order") for line in verdicts)
    swapped = {"bb": _summary("bb", 200, 0.90), "bald": _summary("bald", 190, 0.81)}
    verdicts = [line for line in check.compare(full, swapped) if line.startswith("- ")]
    assert verdicts[0].endswith("ORDER CHANGED") and verdicts[1].endswith("same order")


def test_methods_missing_from_one_setting_are_left_out():
    full = {"bb": _summary("bb", 120, 0.88), "random": _summary("random", 185, 0.81)}
    sub = {"bb": _summary("bb", 100, 0.90)}
    assert not any("random" in line for line in check.compare(full, sub))


def _write_trial(root: Path, method: str, accuracies: list[float], status: str) -> None:
    steps = [
        {"train_size": 20 + 10 * i, "test_accuracy": acc, "timings": {"training": 1.0}}
        for i, acc in enumerate(accuracies)
    ]
    payload = {
        "format": FORMAT, "experiment": root.name, "method": method, "trial": 0, "seed": 0,
        "batch_size": 10, "label_budget": 80, "num_classes": 10, "steps": steps,
        "status": status,
    }  # fmt: skip
    path = root / method / "trial_0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(payload))


def test_main_reads_finished_trials_only(tmp_path, capsys):
    full, sub = tmp_path / "full", tmp_path / "sub"
    _write_trial(full, "bb", [0.7, 0.85, 0.9, 0.91, 0.95, 0.96, 0.97], "complete")
    _write_trial(sub, "bb", [0.7, 0.9, 0.93, 0.94, 0.95, 0.96, 0.97], "complete")
    _write_trial(sub, "bald", [0.7, 0.9], "running")  # ignored: not finished
    check.main([str(full), str(sub)])
    out = capsys.readouterr().out
    assert "| bb | 1 / 1 | 30 / 30 / 30 | 20 / 20 / 20 | 97.0 | 97.0 |" in out
    assert "bald" not in out
    with pytest.raises(SystemExit, match="does not exist"):
        check.main([str(full), str(tmp_path / "missing")])


def test_plot_draws_the_methods_both_settings_ran(tmp_path, capsys):
    full, sub = tmp_path / "full", tmp_path / "sub"
    _write_trial(full, "bb", [0.7, 0.85, 0.9], "complete")
    _write_trial(full, "random", [0.7, 0.8, 0.85], "complete")  # only in the full setting
    _write_trial(sub, "bb", [0.7, 0.9, 0.93], "complete")
    check.main([str(full), str(sub), "--plot", str(tmp_path / "fig" / "check")])
    assert (tmp_path / "fig" / "check.png").stat().st_size > 0
    assert (tmp_path / "fig" / "check.svg").stat().st_size > 0
    assert "wrote" in capsys.readouterr().err  # stdout holds only the table
    figure_text = (tmp_path / "fig" / "check.svg").read_text()
    assert "bb, full pool (1 trial)" in figure_text and "random" not in figure_text
