"""``batchbald acquire`` with feature files: BADGE and coreset from the command line (issue 24)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from batchbald.acquisition import get_acquirer
from batchbald.cli import main


@pytest.fixture
def files(tmp_path):
    generator = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(2 * torch.randn(30, 5, 4, generator=generator), dim=-1)
    features = torch.randn(30, 6, generator=generator)
    labelled = torch.randn(4, 6, generator=generator)
    paths = {"log_probs": tmp_path / "pool.npy", "features": tmp_path / "features.npy",
             "labelled": tmp_path / "labelled.pt", "out": tmp_path / "picks.json"}  # fmt: skip
    np.save(paths["log_probs"], log_probs.numpy())
    np.save(paths["features"], features.numpy())
    torch.save(labelled, paths["labelled"])
    return paths, log_probs, features, labelled


def _acquire(paths, method: str, *extra: str) -> list[str]:
    return ["acquire", str(paths["log_probs"]), "--method", method, "--batch-size", "5",
            "--seed", "3", *extra]  # fmt: skip


def _one_line(capsys) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchbald acquire: error: "), lines
    return lines[0]


@pytest.mark.parametrize("method", ["badge", "coreset"])
def test_feature_methods_match_the_library(files, method):
    paths, log_probs, features, labelled = files
    args = ["--embeddings", str(paths["features"]), "--labelled-embeddings", str(paths["labelled"])]
    assert main(_acquire(paths, method, *args, "--out", str(paths["out"]))) == 0
    expected = get_acquirer(method)(
        log_probs, 5, generator=torch.Generator().manual_seed(3),
        embeddings_N_D=features, labelled_embeddings_L_D=labelled,
    )  # fmt: skip
    picks = json.loads(paths["out"].read_text())
    assert picks["indices"] == expected.indices.tolist()
    assert picks["scores"] == pytest.approx(expected.scores.tolist(), rel=1e-12, abs=1e-12)


def test_coreset_without_labelled_points_starts_from_the_generator(files):
    paths, log_probs, features, _ = files
    assert main(_acquire(paths, "coreset", "--embeddings", str(paths["features"]),
                         "--out", str(paths["out"]))) == 0  # fmt: skip
    expected = get_acquirer("coreset")(
        log_probs, 5, generator=torch.Generator().manual_seed(3), embeddings_N_D=features
    )
    assert json.loads(paths["out"].read_text())["indices"] == expected.indices.tolist()


def test_missing_unneeded_and_mismatched_features_are_one_line(files, capsys, tmp_path):
    paths, *_ = files
    assert main(_acquire(paths, "badge")) == 2
    assert "method 'badge' needs the pool's features: pass --embeddings FILE" in _one_line(capsys)
    assert main(_acquire(paths, "bald", "--embeddings", str(paths["features"]))) == 2
    assert "--embeddings is only used by methods that need features" in _one_line(capsys)
    np.save(tmp_path / "short.npy", np.zeros((7, 6), dtype=np.float32))
    assert main(_acquire(paths, "badge", "--embeddings", str(tmp_path / "short.npy"))) == 2
    line = _one_line(capsys)
    assert "embeddings_N_D" in line and "30" in line and "7" in line, line
    assert main(_acquire(paths, "coreset", "--embeddings", str(tmp_path / "none.npy"))) == 2
    assert "--embeddings file" in _one_line(capsys)


def test_help_marks_the_feature_methods(capsys):
    with pytest.raises(SystemExit):
        main(["acquire", "--help"])
    out = capsys.readouterr().out
    assert "--embeddings" in out and "needs --embeddings" in out


@pytest.fixture
def targets(tmp_path, files):
    generator = torch.Generator().manual_seed(1)
    target = torch.log_softmax(2 * torch.randn(12, 5, 4, generator=generator), dim=-1)
    np.save(tmp_path / "target.npy", target.numpy())
    return tmp_path / "target.npy", target


@pytest.mark.parametrize("method", ["epig", "power_epig"])
def test_epig_methods_take_a_target_file(files, targets, method):
    paths, log_probs, _, _ = files
    target_path, target = targets
    extra = ["--target-log-probs", str(target_path), "--param", "num_target_samples=7"]
    assert main(_acquire(paths, method, *extra, "--out", str(paths["out"]))) == 0
    expected = get_acquirer(method, num_target_samples=7)(
        log_probs, 5, generator=torch.Generator().manual_seed(3), target_log_probs_T_K_C=target
    )
    picks = json.loads(paths["out"].read_text())
    assert picks["indices"] == expected.indices.tolist()
    assert picks["target_log_probs"] == str(target_path)
    pool_targets = get_acquirer(method, num_target_samples=7)(
        log_probs, 5, generator=torch.Generator().manual_seed(3)
    )
    assert picks["scores"] != pool_targets.scores.tolist()  # the file's targets were used


def test_a_target_file_with_other_samples_or_for_another_method_is_one_line(
    files, targets, tmp_path, capsys
):
    paths, _, _, _ = files
    target_path, _ = targets
    assert main(_acquire(paths, "bald", "--target-log-probs", str(target_path))) == 2
    assert "--target-log-probs is only used by the EPIG methods" in _one_line(capsys)
    other = tmp_path / "other.npy"
    np.save(other, np.log(np.full((12, 3, 4), 0.25)))
    assert main(_acquire(paths, "epig", "--target-log-probs", str(other))) == 2
    line = _one_line(capsys)
    assert "target_log_probs_T_K_C must use the same K posterior samples" in line
    assert "(5, 4); got (3, 4)" in line
