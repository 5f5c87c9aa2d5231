"""The per-trial columns of reproduction/progress.py, on hand-written trial payloads."""

from __future__ import annotations

import progress


def _trial(accuracies: dict[int, float], status: str = "complete") -> dict:
    steps = [{"train_size": size, "test_accuracy": acc} for size, acc in accuracies.items()]
    return {"steps": steps, "status": status, "batch_size": 10, "label_budget": 280}


def test_marks_and_first_size():
    trial = _trial({20: 0.6, 30: 0.85, 40: 0.91, 50: 0.96})
    assert progress.mark(trial, 0.90) == "30"  # N_first − b
    assert progress.first_size(trial, 0.90) == "40"
    assert progress.first_size(trial, 0.95) == "50"
    assert progress.first_size(trial, 0.99) == ">50"
    assert progress.mark(trial, 0.99) == ">280"


def test_accuracy_carried_forward_only_once_reached():
    stopped = _trial({20: 0.6, 90: 0.9, 110: 0.951})  # complete: stopped at its target
    assert progress.accuracy_at(stopped, 100) == "90.00"
    assert progress.accuracy_at(stopped, 300) == "95.10"
    running = _trial({20: 0.6, 90: 0.9, 110: 0.951}, status="running")
    assert progress.accuracy_at(running, 100) == "90.00"
    assert progress.accuracy_at(running, 300) == ""  # not there yet
    assert progress.accuracy_at(_trial({20: 0.6}), 10) == ""  # before the first step


def test_settled_size_ignores_early_crossings():
    trial = _trial({20: 0.6, 30: 0.91, 40: 0.88, 50: 0.92, 60: 0.95})
    assert progress.first_size(trial, 0.90) == "30"
    assert progress.settled_size(trial, 0.90) == "50"  # 40 fell back below
    assert progress.settled_size(trial, 0.96) == ">60"
    assert progress.settled_size(_trial({20: 0.6, 30: 0.91}, status="running"), 0.90) == ""
