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


def _write_trial(
    root: Path, method: str, accuracies: list[float], status: str, trial: int = 0
) -> None:
    steps = [
        {"train_size": 20 + 10 * i, "test_accuracy": acc, "timings": {"training": 1.0}}
        for i, acc in enumerate(accuracies)
    ]
    payload = {
        "format": FORMAT, "experiment": root.name, "method": method, "trial": trial, "seed": trial,
        "batch_size": 10, "label_budget": 80, "num_classes": 10, "steps": steps,
        "status": status,
        # Finished trials stopped at their target: their last accuracy carries forward.
        "stop_reason": "target_accuracy" if status == "complete" else None,
    }  # fmt: skip
    path = root / method / f"trial_{trial}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
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


def test_per_trial_marks_and_paired_passages(tmp_path, capsys):
    """Trial i of one method is compared with trial i of the other; 95% counts per setting."""
    full, sub = tmp_path / "full", tmp_path / "sub"
    # sizes 20, 30, 40, ...: a trial first at 90% at size s has the mark s - 10.
    _write_trial(full, "bb", [0.8, 0.9, 0.95], "complete", trial=0)  # 90%: 20, 95%: 30
    _write_trial(full, "bb", [0.8, 0.85, 0.9], "complete", trial=1)  # 90%: 30, 95%: never
    _write_trial(full, "bald", [0.8, 0.85, 0.9], "complete", trial=0)  # 30
    _write_trial(full, "bald", [0.8, 0.85, 0.9], "complete", trial=1)  # 30: a tie
    _write_trial(full, "bald", [0.9], "complete", trial=2)  # no bb trial 2: not paired
    _write_trial(sub, "bb", [0.9, 0.95], "complete", trial=0)  # 10, 20
    _write_trial(sub, "bald", [0.8, 0.8], "complete", trial=0)  # never
    check.main([str(full), str(sub)])
    out = capsys.readouterr().out
    assert "| bald | 30, 30, 10 | >budget | 0 of 3 | 0 of 1 |" in out
    assert "| bb | 20, 30 | 10 | 1 of 2 | 1 of 1 |" in out
    assert (
        "- bald reaches 90% before / with / after bb (paired trials): "
        "full pool 0 / 1 / 1 of 2; subsample 0 / 0 / 1 of 1"
    ) in out
    # accuracy at 100 = the last step's (size ≤ 100): bb full 0.95, 0.9 vs subsample 0.95
    # -> U(sub > full) = 1.5 of 2; the 3 splits give U = 1.5, 0, 1.5 -> p = 2/3.
    assert (
        "- bb, accuracy at 100, exact one-sided Mann–Whitney p: subsample higher 0.67, "
        "full pool higher 1.00"
    ) in out
