"""reproduction/epig_findings.py and figure_status.py: the tables issue 24's and 26's docs cite."""

from __future__ import annotations

import json
import sys

import epig_findings
import figure_status

from batchbald.experiments.results import FORMAT, TrialResult


def _payload(method: str, trial: int, accuracies, status="complete", histogram=None) -> dict:
    """Steps at 20, 120, 220, 320 labels (b = 100) with the given accuracies."""
    steps = [
        {"train_size": 20 + 100 * i, "test_accuracy": a, "class_histogram": histogram or [1, 1]}
        for i, a in enumerate(accuracies)
    ]
    return {"format": FORMAT, "experiment": "epig_imbalanced_mnist", "method": method,
            "trial": trial, "seed": trial, "batch_size": 100, "label_budget": 300,
            "num_classes": 2, "status": status,
            "stop_reason": "label_budget" if status == "complete" else None,
            "steps": steps}  # fmt: skip


def _trial(*args, **kwargs) -> TrialResult:
    return TrialResult.from_payload(_payload(*args, **kwargs))


def test_rows_show_accuracies_means_and_the_classes_share():
    trials = [
        _trial("epig_b10", 0, [0.5, 0.8, 0.9, 0.95], histogram=[3, 1]),
        _trial("epig_b10", 1, [0.5, 0.7], status="running", histogram=[1, 1]),  # to 120 labels
    ]
    (row,) = epig_findings.method_rows(trials, [0])
    assert row == (
        "| epig_b10 | done, 2 steps | 50.0; 50.0 (mean 50.0) | 80.0; — (mean 80.0) "
        "| 90.0; — (mean 90.0) | 75.0; 50.0 |"
    )


def test_paired_differences_use_the_trials_both_methods_have():
    trials = [
        _trial("epig_b10", 0, [0.5, 0.8, 0.9, 0.95]),
        _trial("epig_b10", 1, [0.5, 0.7, 0.8, 0.9]),
        _trial("bald_b10", 0, [0.5, 0.75, 0.85, 0.9]),
    ]
    (row,) = epig_findings.paired_rows(trials, "epig_b10", ["bald_b10"])
    assert row == "| epig_b10 − bald_b10 | +0.0 (mean 0.0) | +5.0 (mean 5.0) | +5.0 (mean 5.0) |"


def test_figure_status_lists_every_row_in_the_sweeps_order(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "report_repeated_mnist_x2_small" / "power_bald_b50"
    folder.mkdir(parents=True)
    (folder / "trial_0.json").write_text(json.dumps(_payload("power_bald_b50", 0, [0.5])))
    running = _payload("power_bald_b50", 1, [0.5, 0.6], status="running")
    (folder / "trial_1.json").write_text(json.dumps(running))
    monkeypatch.setattr(sys, "argv", ["figure_status.py", str(tmp_path)])
    figure_status.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == (
        "| Report Figs. 4–5, b = 50 | report_repeated_mnist_x2_small / power_bald_b50 "
        "| 1 of 3 | 0 ✓, 1: 2 steps |"
    )
    assert len(lines) == 2 + len(figure_status.planned_rows()) and "bald_b1" in lines[-1]
