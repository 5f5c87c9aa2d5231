"""CLI smoke tests through ``main([...])`` in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from batchbald.acquisition import bald, top_k
from batchbald.cli import main


@pytest.fixture
def log_probs_file(tmp_path):
    generator = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(3 * torch.randn(40, 6, 4, generator=generator), dim=-1)
    path = tmp_path / "pool.npy"
    np.save(path, log_probs.numpy())
    return path, log_probs


def test_help_lists_commands_and_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "report", "list", "acquire"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "(default: results)" in capsys.readouterr().out


def test_acquire_help_documents_layout_and_methods(capsys):
    with pytest.raises(SystemExit):
        main(["acquire", "--help"])
    out = capsys.readouterr().out
    assert "[N, K, C]" in out and "log_softmax" in out
    assert "batchbald" in out and "power_bald" in out and "needs --eval-log-probs" in out


def test_acquire_npy_matches_the_library(tmp_path, capsys, log_probs_file):
    path, log_probs = log_probs_file
    out_json = tmp_path / "picks.json"
    assert (
        main(
            ["acquire", str(path), "--method", "bald", "--batch-size", "5", "--out", str(out_json)]
        )
        == 0
    )
    expected = top_k(bald(log_probs), 5)
    picks = json.loads(out_json.read_text())
    assert picks["indices"] == expected.indices.tolist()
    assert picks["scores"] == pytest.approx(expected.scores.tolist())
    assert picks["shape"] == [40, 6, 4] and picks["method"] == "bald"
    printed = capsys.readouterr().out
    assert "picked 5 of 40 pool points" in printed and str(expected.indices[0].item()) in printed


def test_acquire_pt_with_params_and_seed(tmp_path, log_probs_file):
    _, log_probs = log_probs_file
    path = tmp_path / "pool.pt"
    torch.save(log_probs, path)
    args = ["acquire", str(path), "--method", "power_bald", "--batch-size", "4",
            "--param", "coldness=2.0", "--seed", "3"]  # fmt: skip
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main([*args, "--out", str(first)]) == 0
    assert main([*args, "--out", str(second)]) == 0
    picks = json.loads(first.read_text())
    assert picks["params"] == {"coldness": 2.0} and len(set(picks["indices"])) == 4
    assert picks == json.loads(second.read_text())


def test_acquire_with_evaluation_model(tmp_path, log_probs_file):
    path, log_probs = log_probs_file
    eval_path = tmp_path / "eval.npy"
    np.save(eval_path, log_probs.flip(0).numpy())
    args = ["acquire", str(path), "--method", "evaluation_bald", "--batch-size", "3"]
    assert main([*args, "--eval-log-probs", str(eval_path)]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "evaluation_bald"], "needs the evaluation model's log-probabilities"),
        (["--method", "bald", "--param", "coldness=1"], "has no parameter"),
        (["--method", "bald", "--batch-size", "99"], "batch_size must be ≤ the pool size N = 40"),
        (["--method", "bald", "--eval-log-probs", "x.npy"], "--eval-log-probs is only used by"),
        # Feature-based acquirers (issue 24) need the pool's features as a second file.
        (["--method", "coreset"], "method 'coreset' needs the pool's features: pass --embeddings"),
    ],
)
def test_acquire_errors_are_one_line_exit_2(capsys, log_probs_file, args, message):
    path, _ = log_probs_file
    base = ["acquire", str(path), "--batch-size", "3"]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith("batchbald acquire: error:")


def test_acquire_rejects_logits_and_bad_files(tmp_path, capsys):
    logits = tmp_path / "logits.npy"
    np.save(logits, np.random.default_rng(0).normal(size=(5, 2, 3)))
    assert main(["acquire", str(logits), "--method", "bald", "--batch-size", "1"]) == 2
    assert "apply log_softmax" in capsys.readouterr().err
    assert (
        main(["acquire", str(tmp_path / "none.npy"), "--method", "bald", "--batch-size", "1"]) == 2
    )
    assert "does not exist" in capsys.readouterr().err
    text = tmp_path / "pool.csv"
    text.write_text("1,2")
    assert main(["acquire", str(text), "--method", "bald", "--batch-size", "1"]) == 2
    assert "must be a .npy or .pt file" in capsys.readouterr().err
    state = tmp_path / "state.pt"
    torch.save({"a": torch.zeros(1)}, state)
    assert main(["acquire", str(state), "--method", "bald", "--batch-size", "1"]) == 2
    assert "must hold a single tensor" in capsys.readouterr().err


def test_unknown_method_is_an_argparse_error(capsys, log_probs_file):
    path, _ = log_probs_file
    with pytest.raises(SystemExit) as exit_info:
        main(["acquire", str(path), "--method", "balt", "--batch-size", "1"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'balt'" in capsys.readouterr().err


LIST_CONFIG = """
name = "tiny"
[[methods]]
acquirer = "bald"
batch_size = 2
"""


def test_list(capsys, tmp_path):
    (tmp_path / "tiny.toml").write_text(LIST_CONFIG)
    assert main(["list", "--configs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "batchbald " in out and "params: num_samples=" in out
    assert "mnist" in out and "synthetic" in out and "mnist_cnn" in out
    assert "tiny.toml" in out and "(1 methods)" in out
    epig = next(line for line in out.splitlines() if line.startswith("  epig "))
    assert epig.endswith("[target inputs: data.target_size, else the pool]")
