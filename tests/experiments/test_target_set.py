"""``data.target_size``: unlabelled target inputs held out for the EPIG family (issue 24).

They are drawn after the subsample and before the flaws from their own generator, so a config
without them prepares exactly the data it did before; they never reach the pool; the EPIG rules
of a run then draw their targets from them.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

from batchbald.data import ImageData
from batchbald.errors import ConfigError
from batchbald.experiments.components import _hold_out_target, prepare_data
from batchbald.experiments.config import config_from_dict
from batchbald.experiments.runner import plan_trials, run_trials

from .factories import tiny_config, to_toml

# tiny_config: synthetic data, train_subsample = 150 of 1,200 training points, 10 classes.


def with_data(**data) -> dict:
    table = copy.deepcopy(tiny_config())
    table["data"].update(data)
    return table


def prepared(**data):
    return prepare_data(config_from_dict(with_data(**data)).data)


def test_no_target_set_prepares_the_same_data_as_before():
    plain, explicit = prepared(), prepared(target_size=0)
    assert plain.target is None and explicit.target is None
    assert torch.equal(plain.train.source_index, explicit.train.source_index)
    assert torch.equal(plain.train.inputs, explicit.train.inputs)


def test_the_target_set_is_held_out_of_the_training_data_reproducibly():
    plain, splits, again = prepared(), prepared(target_size=30), prepared(target_size=30)
    target, train = splits.target.source_index, splits.train.source_index
    assert len(target) == 30 and len(train) == 120
    assert not set(target.tolist()) & set(train.tolist())
    assert sorted(target.tolist() + train.tolist()) == sorted(plain.train.source_index.tolist())
    assert torch.equal(target, again.target.source_index)
    assert torch.equal(splits.target.inputs, again.target.inputs)


def test_the_flaws_apply_to_the_training_data_only():
    splits = prepared(target_size=30, flaws=[{"name": "repeated", "copies": 2, "noise_std": 0.1}])
    assert len(splits.train) == 2 * 120
    assert len(set(splits.target.source_index.tolist())) == 30  # no copies among the targets


def test_the_papers_initial_points_are_never_held_out():
    train = ImageData(torch.randn(50, 1, 2, 2), torch.arange(50) % 5, 5)
    keep = torch.arange(20)
    rest, target = _hold_out_target(train, config_from_dict(with_data(target_size=29)).data, keep)
    assert set(range(20)) <= set(rest.source_index.tolist())
    assert len(target) == 29 and min(target.source_index.tolist()) >= 20
    with pytest.raises(
        ConfigError,
        match=r"^data\.target_size must be < the 30 training points that can be held out as "
        r"target inputs; got 30\. Lower it or set 0$",
    ):
        _hold_out_target(train, config_from_dict(with_data(target_size=30)).data, keep)


@pytest.mark.parametrize(("value", "message"), [(-1, "must be an int ≥ 0; got -1"), ("5", "int")])
def test_a_bad_target_size_is_a_config_error_naming_it(value, message):
    with pytest.raises(ConfigError, match="target_size") as caught:
        config_from_dict(with_data(target_size=value))
    assert message in str(caught.value)


def test_cli_run_names_a_target_set_larger_than_the_data(tmp_path, capsys):
    from batchbald.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(to_toml(with_data(target_size=150)), encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.target_size must be < the 150 training points" in err


def test_a_run_with_epig_and_a_target_set_completes(tmp_path):
    table = with_data(target_size=20)
    table["methods"] = [{"acquirer": "epig", "batch_size": 3, "params": {"num_target_samples": 8}}]
    run_trials(plan_trials([config_from_dict(table)], out_dir=tmp_path), jobs=1, quiet=True)
    (path,) = tmp_path.rglob("trial_0.json")
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["status"] == "complete" and payload["config"]["data"]["target_size"] == 20
    assert [step["train_size"] for step in payload["steps"]] == [10, 13, 16]
