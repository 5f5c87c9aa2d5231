"""A campaign's target inputs for the EPIG methods (``--target``; issue 24).

The targets are a second source decoded like the pool; every ``propose`` of an EPIG method scores
them with the pool, and they are never proposed. Other methods refuse them, and a target of the
wrong kind or one with nothing readable is a named error.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import batchbald.campaign.propose as propose_module
from batchbald.campaign import Campaign, CampaignError
from batchbald.campaign.targets import load_targets
from batchbald.cli import main
from batchbald.errors import DataError, InvalidInputError

from .helpers import FAST, make_pool

EPIG = {**FAST, "method": "epig", "method_params": {"num_target_samples": 5}}


def pools(tmp_path):
    (tmp_path / "pool").mkdir()
    (tmp_path / "target").mkdir()
    pool, _ = make_pool(tmp_path / "pool", size=24)
    target, _ = make_pool(tmp_path / "target", size=9, seed=1)
    return pool, target


def test_epig_scores_the_targets_with_the_pool_and_never_proposes_them(tmp_path, monkeypatch):
    pool, target = pools(tmp_path)
    seen = []
    real = propose_module._PhasedAcquirer.__call__

    def spy(self, *args, **kwargs):
        seen.append((args[0], kwargs.get("target_log_probs_T_K_C")))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(propose_module._PhasedAcquirer, "__call__", spy)
    campaign = Campaign.init(
        tmp_path / "p", source=f"npz:{pool}", classes="abc", target=str(target), **EPIG
    )
    assert Campaign.open(tmp_path / "p").settings.target == f"npz:{target.resolve()}"
    first = campaign.propose()
    for position, item_id in enumerate(first.item_ids):
        campaign.record(item_id, "abc"[position % 3], "ann")
    second = campaign.propose()
    assert len(seen) == 2
    for (pool_N_K_C, target_T_K_C), size in zip(seen, (24, 20), strict=True):
        assert pool_N_K_C.shape == (size, 4, 3) and target_T_K_C.shape == (9, 4, 3)
    pool_ids = {f"row-{row:08d}" for row in range(24)}
    assert set(first.item_ids) | set(second.item_ids) <= pool_ids
    assert campaign.status()["pool"]["present"] == 24
    assert campaign.status()["target"] == f"npz:{target.resolve()}"
    targets = load_targets(campaign.settings, campaign.project)
    assert targets.inputs.shape[1:] == (1, 28, 28) and len(targets) == 9


def test_targets_equal_to_the_pool_get_the_pools_log_probabilities(tmp_path, monkeypatch):
    """Same inputs, same call: the targets' rows equal the pool's (same posterior samples)."""
    pool, _ = pools(tmp_path)
    seen = []
    real = propose_module._PhasedAcquirer.__call__

    def spy(self, *args, **kwargs):
        seen.append((args[0], kwargs["target_log_probs_T_K_C"]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(propose_module._PhasedAcquirer, "__call__", spy)
    campaign = Campaign.init(
        tmp_path / "p", source=f"npz:{pool}", classes="abc", target=str(pool), **EPIG
    )
    campaign.propose()
    ((pool_N_K_C, target_T_K_C),) = seen
    torch.testing.assert_close(target_T_K_C, pool_N_K_C, rtol=0, atol=1e-5)


def test_other_methods_refuse_a_target(tmp_path):
    pool, target = pools(tmp_path)
    with pytest.raises(
        InvalidInputError,
        match=r"^target is only used by the EPIG methods \(epig, power_epig, batch_epig\); "
        r"method 'bald' does not use target inputs$",
    ):
        Campaign.init(tmp_path / "p", source=f"npz:{pool}", classes="abc", target=str(target),
                      **FAST)  # fmt: skip
    assert not (tmp_path / "p").exists()


def test_a_target_of_another_kind_or_missing_is_named(tmp_path):
    pool, _ = pools(tmp_path)
    features = tmp_path / "features.npy"
    np.save(features, np.zeros((5, 4), dtype=np.float32))
    with pytest.raises(InvalidInputError, match=r"^target must hold images like the pool"):
        Campaign.init(tmp_path / "p", source=f"npz:{pool}", classes="abc",
                      target=f"features:{features}", **EPIG)  # fmt: skip
    with pytest.raises(DataError, match="nowhere"):
        Campaign.init(tmp_path / "p", source=f"npz:{pool}", classes="abc",
                      target=str(tmp_path / "nowhere"), **EPIG)  # fmt: skip


def test_a_target_folder_with_nothing_readable_fails_the_propose_by_name(tmp_path):
    pool, _ = pools(tmp_path)
    folder = tmp_path / "deployment"
    folder.mkdir()
    (folder / "scan.png").write_bytes(b"not a png")
    campaign = Campaign.init(
        tmp_path / "p", source=f"npz:{pool}", classes="abc", target=f"folder:{folder}", **EPIG
    )
    with pytest.raises(CampaignError, match=r"^target 'folder:.*deployment': no readable input$"):
        campaign.propose()
    assert campaign.current_round() is None


def test_cli_init_takes_a_target_and_refuses_it_for_bald_in_one_line(tmp_path, capsys):
    pool, target = pools(tmp_path)
    fast = ["--batch-size", "3", "--k", "4", "--training", "epoch_size=32",
            "--training", "max_epochs=2", "--regime", "fixed_epochs=2"]  # fmt: skip
    base = ["campaign", "init", "--arrays", str(pool), "--classes", "a,b,c", *fast]
    assert main([*base[:2], str(tmp_path / "bad"), *base[2:], "--target", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "target is only used by the EPIG methods" in err
    ok = [*base[:2], str(tmp_path / "p"), *base[2:], "--method", "epig", "--target", str(target)]
    assert main(ok) == 0
    assert main(["campaign", "propose", str(tmp_path / "p")]) == 0
    assert "round 1: 3 items by epig" in capsys.readouterr().out
    assert main(["campaign", "status", str(tmp_path / "p")]) == 0
    assert f"target inputs (epig): npz:{target.resolve()}" in capsys.readouterr().out
