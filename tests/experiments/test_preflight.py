"""Config values the data cannot satisfy fail before the first trial, naming the key (issue 25).

Nothing is clamped: a subsample larger than the data, a class too small for the balanced
initial set, a validation set larger than what is left, a batch larger than the pool, and
``b > K`` for ``thompson_bald`` are ConfigErrors, from the API (``prepare_data``,
``make_trial_split``, ``config_from_dict``), ``run_trials`` and ``batchbald run``.
"""

from __future__ import annotations

import copy

import pytest
import torch

from batchbald.errors import ConfigError
from batchbald.experiments.components import make_trial_split, prepare_data
from batchbald.experiments.config import config_from_dict
from batchbald.experiments.preflight import check_subsample
from batchbald.experiments.runner import plan_trials, run_trials

from .factories import tiny_config, to_toml

# tiny_config: synthetic data (1,200 training and 400 test points, 10 balanced classes),
# train_subsample = 150, one balanced initial point per class, 20 validation points.


def with_data(**data) -> dict:
    table = copy.deepcopy(tiny_config())
    table["data"].update(data)
    return table


def split_of(table: dict):
    config = config_from_dict(table)
    train = prepare_data(config.data).train
    return make_trial_split(train, config.data, torch.Generator().manual_seed(0))


SPLIT_ERRORS = [
    (
        {"train_subsample": 1201},
        r"^data\.train_subsample must be ≤ the 1200 training points of 'synthetic' \(0 keeps "
        r"all\); got 1201",
    ),
    (
        {"test_subsample": 401},
        r"^data\.test_subsample must be ≤ the 400 test points of 'synthetic' .*; got 401",
    ),
    (
        {"initial_per_class": 16},
        r"^data\.initial_per_class must be ≤ the labelled points of every class \(initial = "
        r"'balanced'\); class '\d' has \d; got 16",
    ),
    (
        {"validation_size": 141},
        r"^data\.validation_size must be ≤ the 140 labelled training points left after the 10 "
        r"initial ones; got 141",
    ),
    (
        {"initial": "paper_mnist"},
        r"^data\.initial = 'paper_mnist' needs MNIST training point 38043",
    ),
]


@pytest.mark.parametrize(("data", "message"), SPLIT_ERRORS)
def test_api_names_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        split_of(with_data(**data))


def test_limits_themselves_are_accepted():
    split = split_of(with_data(train_subsample=1200, test_subsample=400, validation_size=1190))
    assert len(split.labelled_indices) == 10 and len(split.validation_indices) == 1190
    assert len(split.pool_indices) == 0
    labels = prepare_data(config_from_dict(tiny_config()).data).train.labels
    smallest = int(torch.bincount(labels).min())
    assert len(split_of(with_data(initial_per_class=smallest)).labelled_indices) == 10 * smallest
    with pytest.raises(ConfigError, match=f"has {smallest}; got {smallest + 1}$"):
        split_of(with_data(initial_per_class=smallest + 1))


def test_the_subsample_keeps_the_paper_points_so_must_hold_them():
    with pytest.raises(ConfigError, match=r"^data\.train_subsample must be ≥ 20: the subsample "):
        check_subsample(10, 60000, "data.train_subsample", "training points", kept=20)
    check_subsample(20, 60000, "data.train_subsample", "training points", kept=20)


def test_thompson_bald_needs_batch_at_most_k_at_config_load():
    table = tiny_config(methods=[{"acquirer": "thompson_bald", "batch_size": 3}])
    with pytest.raises(
        ConfigError,
        match=r"^<config>: methods\[0\]\.batch_size must be ≤ K = 2 \(scoring\.k\) for "
        r"thompson_bald, which uses one posterior sample per pick; got 3\. Raise scoring\.k",
    ):
        config_from_dict(table)
    table["methods"][0]["k"] = 3
    assert config_from_dict(table).methods[0].k == 3
    table["methods"][0]["k"] = 2
    with pytest.raises(ConfigError, match=r"K = 2 \(methods\[0\]\.k\).*Raise methods\[0\]\.k"):
        config_from_dict(table)


def test_ensemble_test_k_must_fit_its_members():
    table = tiny_config(model={"kind": "ensemble", "members": 2})
    table["scoring"]["test_k"] = 3
    with pytest.raises(
        ConfigError, match=r"^<config>: scoring\.test_k must be ≤ model\.members = 2 .*got "
    ):
        config_from_dict(table)


def _specs(table, out):
    return plan_trials([config_from_dict(table)], out_dir=out)


def test_runner_checks_before_any_trial(tmp_path):
    table = with_data(validation_size=137)  # pool: 150 - 10 - 137 = 3 points
    table["methods"] = [
        {"acquirer": "bald", "batch_size": 3},
        {"acquirer": "bald", "batch_size": 4},
    ]
    with pytest.raises(
        ConfigError,
        match=r"^tiny: methods\[1\]\.batch_size must be ≤ the pool of 3 points a trial starts "
        r"from .*; got 4$",
    ):
        run_trials(_specs(table, tmp_path), jobs=1, quiet=True)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(("data", "message"), SPLIT_ERRORS[:4])
def test_cli_run_one_line_before_any_trial(tmp_path, capsys, data, message):
    from batchbald.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(to_toml(with_data(**data)), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("batchbald run: error: tiny: ") and err.count("\n") == 1
    assert __import__("re").search(message.replace("^", ""), err)
    assert not list(out.rglob("*.json"))
