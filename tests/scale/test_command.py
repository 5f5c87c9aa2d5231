"""``batchbald acquire`` over a store directory (streamed) gives the in-memory picks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from batchbald.cli import main
from batchbald.scale import command

from ._pools import random_pool, write_store

METHODS = [
    ("bald", []),
    ("power_bald", ["--param", "coldness=2.0"]),
    ("softrank_bald", []),
    ("softmax_entropy", []),
    ("power_mean_std", ["--param", "coldness=0.5"]),
    ("random", []),
    ("batchbald", ["--param", "num_samples=500"]),
]


@pytest.mark.parametrize(("method", "params"), METHODS)
def test_store_directory_gives_the_in_memory_picks(tmp_path, capsys, method, params):
    log_probs = random_pool(900, 5, 3, seed=0, spread=0.6)
    write_store(tmp_path / "store", log_probs, shard_rows=200)
    np.save(tmp_path / "pool.npy", log_probs.numpy())
    picks = {}
    for source in ("store", "pool.npy"):
        out = tmp_path / f"{source}.json"
        args = ["acquire", str(tmp_path / source), "--method", method, "--batch-size", "4"]
        assert main([*args, *params, "--seed", "3", "--out", str(out)]) == 0
        picks[source] = json.loads(out.read_text())
    assert "streamed from a 0.00 GiB store" in capsys.readouterr().out
    assert picks["store"]["indices"] == picks["pool.npy"]["indices"]
    assert picks["store"]["scores"] == picks["pool.npy"]["scores"]


def test_large_npy_streams_and_reports_candidates(tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "pool.npy", random_pool(600, 4, 3, seed=1, spread=0.6).numpy())
    monkeypatch.setattr(command, "STREAM_MIN_BYTES", 0)
    args = ["acquire", str(tmp_path / "pool.npy"), "--method", "batchbald", "--batch-size", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "streamed from" in out and "candidates loaded:" in out


def test_store_errors_are_one_line_exit_2(tmp_path, capsys):
    write_store(tmp_path / "store", random_pool(50, 2, 3, seed=2), shard_rows=20)
    (tmp_path / "store" / "shard-000001.npy").write_bytes(b"\x93NUMPY")
    assert main(["acquire", str(tmp_path / "store"), "--method", "bald", "--batch-size", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald acquire: error: cannot read the .npy header")
    args = ["acquire", str(tmp_path / "store"), "--method", "thompson_bald", "--batch-size", "2"]
    assert main(args) == 2
    assert "cannot stream a store directory; methods that can: bald" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["batch_evaluation_bald", "batch_eig"])
def test_evaluation_rules_stream_two_store_directories(tmp_path, capsys, method):
    """POOL and --eval-log-probs both store directories: streamed, the in-memory picks."""
    train = random_pool(600, 5, 3, seed=4, spread=0.6)
    evaluation = random_pool(600, 5, 3, seed=5, spread=0.6)
    write_store(tmp_path / "train", train, shard_rows=200)
    write_store(tmp_path / "eval", evaluation, shard_rows=150)
    np.save(tmp_path / "train.npy", train.numpy())
    np.save(tmp_path / "eval.npy", evaluation.numpy())
    picks = {}
    for pool, other in (("train", "eval"), ("train.npy", "eval.npy")):
        out = tmp_path / f"{pool}.json"
        args = ["acquire", str(tmp_path / pool), "--method", method, "--batch-size", "4",
                "--eval-log-probs", str(tmp_path / other), "--out", str(out)]  # fmt: skip
        assert main([*args, "--param", "num_samples=60"]) == 0
        picks[pool] = json.loads(out.read_text())
    assert "candidates loaded:" in capsys.readouterr().out
    assert picks["train"]["indices"] == picks["train.npy"]["indices"]
    assert picks["train"]["scores"] == picks["train.npy"]["scores"]
