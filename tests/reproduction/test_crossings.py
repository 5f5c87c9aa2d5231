"""reproduction/crossings.py: falls, and the paper runs read in our trial layout."""

from __future__ import annotations

import json

import crossings
import pytest


def test_falls_counts_decreases_and_the_largest():
    trial = {"steps": [{"test_accuracy": a} for a in (0.80, 0.85, 0.83, 0.90, 0.86, 0.86)]}
    count, largest = crossings.falls(trial)
    assert count == 2 and largest == pytest.approx(4.0)
    assert crossings.falls({"steps": [{"test_accuracy": 0.5}]}) == (0, 0.0)


def test_paper_runs_and_ours_give_the_same_rows(tmp_path):
    accuracies = [0.70, 0.91, 0.88, 0.92, 0.93]
    run = {"method": "batchbald", "seed": 7, "copies": 2, "initial_samples": list(range(20)),
           "iterations": [{"accuracy": a, "chosen_samples": []} for a in accuracies]}  # fmt: skip
    paper = tmp_path / "paper.json"
    paper.write_text(json.dumps({"source": "test", "runs": [run]}))
    ours = {"experiment": "x", "method": "batchbald_b10", "trial": 0, "status": "complete",
            "steps": [{"train_size": 20 + 10 * i, "test_accuracy": a}
                      for i, a in enumerate(accuracies)]}  # fmt: skip
    (tmp_path / "x" / "batchbald_b10").mkdir(parents=True)
    (tmp_path / "x" / "batchbald_b10" / "trial_0.json").write_text(json.dumps(ours))
    running = dict(ours, trial=1, status="running")
    (tmp_path / "x" / "batchbald_b10" / "trial_1.json").write_text(json.dumps(running))
    expected = "| 30 | 50 | 1 of 4 | 3.0 |"  # first 90% at 30, back below at 40
    assert crossings.rows(paper, 0.9) == [f"| paper ×2 batchbald seed 7 {expected}"]
    assert crossings.rows(tmp_path / "x", 0.9) == [f"| x batchbald_b10 0 {expected}"]
