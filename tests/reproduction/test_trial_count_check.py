"""reproduction/trial_count_check.py: marks from paper-runs JSON and the k-of-n median tallies,
on runs written here with hand-computed answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import trial_count_check as check


def _run(method: str, seed: int, mark: float) -> dict:
    """A paper run (20 initial points, batches of 10) whose 90% mark is ``mark`` (inf: never)."""
    steps = 5 if math.isinf(mark) else int(mark - 10) // 10  # N_first = mark + 10 = 20 + 10·i
    accuracies = [0.5] * steps + ([] if math.isinf(mark) else [0.95])
    return {"method": method, "seed": seed, "initial_samples": list(range(20)),
            "iterations": [{"accuracy": a, "chosen_samples": []} for a in accuracies]}  # fmt: skip


@pytest.fixture
def runs(tmp_path):
    first = {1: 10, 2: 20, 3: 30, 4: 40}
    second = {1: 20, 2: 20, 3: 20, 4: math.inf}
    payload = [_run("batchbald", s, m) for s, m in first.items()]
    payload += [_run("bald", s, m) for s, m in second.items()]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"source": "test", "runs": payload}))
    return path


def test_marks_are_n_first_minus_b(runs):
    marks = check.marks(runs, 0.9)
    assert marks["batchbald"] == {1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0}
    assert marks["bald"] == {1: 20.0, 2: 20.0, 3: 20.0, 4: math.inf}


def test_three_of_four_tallies(runs):
    # Same seeds: (1,2,3) 20 vs 20, (1,2,4) 20 vs 20, (1,3,4) 30 vs 20, (2,3,4) 30 vs 20.
    # Independent: first's medians [20, 20, 30, 30] against second's [20, 20, 20, 20].
    lines = check.rows(check.marks(runs, 0.9), 0.9)
    assert lines[0].startswith("| 90% | batchbald | 10, 20, 30, 40 |")
    assert lines[0].endswith("| 20–30 |")
    assert lines[1].startswith("| 90% | bald | 20, 20, 20, >300 |")
    assert lines[1].endswith("| 20–20 |")
    assert lines[2].endswith("| same seeds: 0 / 2 / 2 of 4; independent seeds: 0 / 8 / 8 of 16 |")


def test_main_prints_both_thresholds_and_rejects_a_missing_file(runs, tmp_path, capsys):
    check.main([str(runs)])
    out = capsys.readouterr().out
    assert out.count("| 90% |") == 3 and out.count("| 95% |") == 3
    with pytest.raises(SystemExit, match="no such file"):
        check.main([str(tmp_path / "missing.json")])
    with pytest.raises(SystemExit, match=r"--thresholds: expected .* got \[90.0\]"):
        check.main([str(runs), "--thresholds", "90"])


def test_runs_without_both_methods_are_refused(tmp_path):
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"source": "test", "runs": [_run("batchbald", 1, 10)]}))
    with pytest.raises(SystemExit, match=r"none of \['bald'\] found"):
        check.main([str(path)])


def test_the_papers_runs_give_the_published_quartiles():
    """The committed extraction of the paper's six runs per method reproduces Table 1."""
    root = Path(__file__).resolve().parents[2]
    path = root / "reproduction" / "checks" / "paper_mnist_b10_runs.json"
    lines = check.rows(check.marks(path, 0.9), 0.9) + check.rows(check.marks(path, 0.95), 0.95)
    assert "| 70 / 90 / 110 |" in lines[0] and "| 120 / 120 / 170 |" in lines[1]
    assert "| 190 / 200 / 230 |" in lines[3] and "| 250 / 250 / >300 |" in lines[4]
