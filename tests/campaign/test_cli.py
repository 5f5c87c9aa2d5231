"""``batchbald campaign ...``: the commands end to end; every bad input is one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from batchbald.cli import main

from .helpers import make_pool

FAST_FLAGS = [
    "--batch-size", "3", "--k", "4", "--method", "bald",
    "--training", "epoch_size=32", "--training", "max_epochs=2", "--regime", "fixed_epochs=2",
]  # fmt: skip


@pytest.fixture
def project(tmp_path, capsys):
    path, _ = make_pool(tmp_path, size=20)
    project = tmp_path / "p"
    assert main(["campaign", "init", str(project), "--arrays", str(path), "--classes", "a,b,c",
                 *FAST_FLAGS]) == 0  # fmt: skip
    assert "created campaign" in capsys.readouterr().out
    return project


def test_init_propose_label_status_export(project, tmp_path, capsys):
    assert main(["campaign", "propose", str(project)]) == 0
    out = capsys.readouterr()
    assert "round 1: 3 items by bald" in out.out and "propose: scoring" in out.err
    item = out.out.splitlines()[1].split()[1]
    assert main(["campaign", "label", str(project), item, "b", "--annotator", "ann"]) == 0
    assert main(["campaign", "label", str(project), item, "b", "--annotator", "ann"]) == 0
    assert main(["campaign", "status", str(project), "--json"]) == 0
    status = json.loads(capsys.readouterr().out.split("\n", 2)[2])
    assert status["labels"] == 1 and status["rounds"][0]["done"] == 1
    assert main(["campaign", "undo", str(project), "--annotator", "ann"]) == 0
    assert main(["campaign", "status", str(project), "--plot", str(tmp_path / "e.png")]) == 0
    assert "labels: 0 (a 0, b 0, c 0)" in capsys.readouterr().out
    assert (tmp_path / "e.png").read_bytes().startswith(b"\x89PNG")
    assert main(["campaign", "label", str(project), item, "c", "--annotator", "ann"]) == 0
    assert main(["campaign", "export", str(project), "--out", str(tmp_path / "l.csv")]) == 0
    assert (tmp_path / "l.csv").read_text().splitlines()[1].startswith(f"{item},c,ann,")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["label", "{p}", "row-00000000", "a", "--annotator", "ann"], "nothing proposed yet"),
        (["label", "{p}", "../x", "a", "--annotator", "ann"], "must name an item in the pool"),
        (["status", "{p}/nowhere"], "project must be a campaign folder"),
        (["propose", "{p}", "--batch-size", "0"], "batch_size must be an int ≥ 1"),
        (["init", "{p}2", "--images", "{p}/none", "--classes", "a,b"], "images must be an"),
        (["init", "{p}2", "--arrays", "{p}/../pool.npz", "--classes", "a"], "classes must be ≥ 2"),
        (["init", "{p}2", "--arrays", "{p}/../pool.npz", "--classes", "a,b", "--method", "x"],
         "unknown acquirer"),
        (["init", "{p}2", "--arrays", "{p}/../pool.npz", "--classes", "a,b", "--db", "mysql://x"],
         "db_url must be sqlite:///PATH or postgresql://"),
        (["init", "{p}2", "--arrays", "{p}/../pool.npz", "--classes", "a,b", "--db",
          "postgresql://nobody@127.0.0.1:1/x"], "database error: connection"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(project, capsys, arguments, message):
    argv = ["campaign", *[a.replace("{p}", str(project)) for a in arguments]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald campaign: error: ") and message in err
    assert err.count("\n") == 1


def test_the_installed_command_prints_one_line(project):
    result = subprocess.run(
        [sys.executable, "-m", "batchbald.cli", "campaign", "label", str(project), "x", "zz",
         "--annotator", "ann"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "label must be one of a, b, c" in result.stderr
