"""reproduction/versus.py: our finished trials against the published per-method numbers."""

from __future__ import annotations

import json
import sys

import pytest
import versus

from batchbald.experiments.results import FORMAT, TrialResult


def _payload(method: str, trial: int, accuracies: list[float], status: str = "complete") -> dict:
    steps = [{"train_size": 20 + 40 * i, "test_accuracy": a} for i, a in enumerate(accuracies)]
    # Finished trials here stopped at their target, so their last accuracy carries forward.
    stop_reason = "target_accuracy" if status == "complete" else None
    return {"format": FORMAT, "experiment": "tmlr_repeated_mnist_x4", "method": method,
            "trial": trial, "seed": trial, "batch_size": 10, "label_budget": 280,
            "num_classes": 10, "status": status, "stop_reason": stop_reason,
            "steps": steps}  # fmt: skip


def test_row_median_counts_unreached_as_infinite_and_carries_accuracy_forward():
    trials = [
        TrialResult.from_payload(_payload("bald_b10", 0, [0.6, 0.8, 0.91, 0.93])),  # 90% at 100
        TrialResult.from_payload(_payload("bald_b10", 1, [0.6, 0.85, 0.88, 0.89])),  # never
        TrialResult.from_payload(_payload("bald_b10", 2, [0.6, 0.9, 0.95])),  # 90% at 60
    ]
    row = versus.method_row("bald_b10", trials, ((1, 2, 3), {100: 80.0, 300: 88.6}))
    assert row == (
        "| bald_b10 | 3 | 100, >last, 60 | 100 | 1 / 2 / 3 "
        "| 91.0 / 93.0; 88.0 / 89.0; 95.0 / 95.0 | 91.3 / 92.3 | 80.0 / 88.6 |"
    )


def test_main_uses_finished_trials_and_names_unknown_experiments(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "runs" / "power_bald_b10"
    folder.mkdir(parents=True)
    (folder / "trial_0.json").write_text(json.dumps(_payload("power_bald_b10", 0, [0.7, 0.96])))
    running = _payload("power_bald_b10", 1, [0.5], status="running")
    (folder / "trial_1.json").write_text(json.dumps(running))
    monkeypatch.setattr(sys, "argv", ["versus.py", str(tmp_path / "runs")])
    versus.main()
    out = capsys.readouterr().out
    assert "| power_bald_b10 | 1 | 60 | 60 | — | 96.0 | 96.0 | 95.7 |" in out
    other = _payload("power_bald_b10", 0, [0.7]) | {"experiment": "mnist_b10"}
    (folder / "trial_0.json").write_text(json.dumps(other))
    with pytest.raises(SystemExit, match="no published per-method numbers for 'mnist_b10'"):
        versus.main()
    monkeypatch.setattr(sys, "argv", ["versus.py", str(tmp_path / "missing")])
    with pytest.raises(SystemExit, match="does not exist"):
        versus.main()
