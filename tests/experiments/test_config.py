"""Config loading: every shipped config is valid; bad keys and values are named ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchbald.errors import ConfigError
from batchbald.experiments.config import (
    DataConfig,
    ExperimentConfig,
    MethodConfig,
    config_from_dict,
    load_config,
)

from .factories import tiny_config

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.toml"))


def test_the_paper_configs_exist():
    names = {path.stem for path in CONFIGS}
    assert {
        "demo",
        "mnist_table1",
        "repeated_mnist",
        "emnist_balanced",
        "report_repeated_mnist_x2",
        "tmlr_repeated_mnist_x4",
    } <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_configs_load_and_round_trip(path):
    config = load_config(path)
    assert config.name == path.stem
    assert config_from_dict(config.to_dict()) == config


def test_protocol_values_of_table1():
    config = load_config(Path(__file__).parents[2] / "configs" / "mnist_table1.toml")
    assert config.scoring.k == 100 and config.data.validation_size == 1024
    assert dict(config.training)["epoch_size"] == 5056 and config.trials == 6
    assert [(m.acquirer, m.batch_size) for m in config.methods] == [
        ("batchbald", 10), ("batchbald", 5), ("batchbald", 40), ("bald", 10), ("bald", 1),
    ]  # fmt: skip


def test_defaults_and_method_names():
    config = config_from_dict(tiny_config())
    assert [m.name for m in config.methods] == ["bald_b3", "random_b3"]
    assert config.stop.target_accuracy is None
    assert isinstance(config.data, DataConfig)


BAD = [
    ("epochs", 3, r"epochs: unknown key; valid keys at the top level: name, methods"),
    ("data.validaton_size", 3, r"data\.validaton_size: unknown key"),
    ("data.validation_size", -1, r"data\.validation_size must be an int ≥ 0; got -1"),
    ("data.initial", "paper", r"data\.initial must be one of 'paper_mnist', 'balanced', 'none'"),
    ("data.flaws", [{"name": "duplicate"}], r"data\.flaws\[0\]\.name must be one of repeated"),
    ("data.flaws", [{"name": "repeated", "copys": 2}], r"data\.flaws\[0\]\.copys is not an arg"),
    ("training.lr", -1.0, r"training: TrainingConfig\.lr must be a finite number > 0"),
    ("training.learning_rate", 1.0, r"training\.learning_rate: unknown key"),
    ("scoring.k", 0, r"scoring\.k must be an int ≥ 1; got 0"),
    ("stop.target_accuracy", 95, r"stop\.target_accuracy must lie in \[0\.0, 1\.0\]; got 95"),
    ("methods", [], r"methods must be a non-empty array of tables"),
    ("methods", [{"acquirer": "bald"}], r"methods\[0\]\.batch_size: missing; it is required"),
    ("methods", [{"acquirer": "balt", "batch_size": 2}], r"methods\[0\]\.acquirer is invalid: "
     r"unknown acquirer 'balt'; valid names: .*bald"),
    ("methods", [{"acquirer": "bald", "batch_size": 2, "params": {"coldness": 2}}],
     r"methods\[0\]\.params\.coldness is not a parameter of acquirer 'bald'; "
     r"valid parameters: none"),
    # Parameter values are checked against the acquirer's declarations when the config is
    # read, not after the first model has trained.
    ("methods", [{"acquirer": "batchbald", "batch_size": 2, "params": {"num_samples": -1}}],
     r"methods\[0\]\.params\.num_samples must be an int ≥ 1; got -1"),
    ("methods", [{"acquirer": "batchbald", "batch_size": 2, "params": {"lazy": "no"}}],
     r"methods\[0\]\.params\.lazy must be a bool; got 'no' \(str\)"),
    ("methods", [{"acquirer": "batch_evaluation_bald", "batch_size": 2,
                  "params": {"dtype": "float16"}}],
     r'methods\[0\]\.params\.dtype must be "float32" or "float64"'),
    ("methods", [{"acquirer": "power_bald", "batch_size": 2, "params": {"coldness": -1.0}}],
     r"methods\[0\]\.params\.coldness must be a real number ≥ 0 or inf; got -1\.0"),
    ("methods", [{"acquirer": "bald", "batch_size": 2}] * 2,
     r"methods: method names must be unique; repeated: bald_b2"),
    ("methods", [{"acquirer": "bald", "batch_size": 2, "name": "a/b"}],
     r"methods\[0\]\.name must use only letters"),
    ("model", "resnet", r"model must be one of 'embeddings_mlp', 'emnist_cnn', .*; got 'resnet'"),
    ("trials", 0, r"trials must be an int ≥ 1; got 0"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "value", "message"), BAD, ids=[row[0] for row in BAD])
def test_bad_configs_name_the_key(key, value, message):
    table = tiny_config()
    *sections, last = key.split(".")
    target = table
    for section in sections:
        target = target[section]
    target[last] = value
    with pytest.raises(ConfigError, match=f"^<config>: {message}"):
        config_from_dict(table)


def test_load_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)
    no_methods = tmp_path / "none.toml"
    no_methods.write_text('name = "x"\n')
    with pytest.raises(ConfigError, match=r"none\.toml: methods: missing"):
        load_config(no_methods)


def test_direct_construction_validates_too():
    with pytest.raises(ConfigError, match="batch_size must be an int ≥ 1; got 0"):
        MethodConfig(acquirer="bald", batch_size=0)
    with pytest.raises(ConfigError, match="methods must list at least one method"):
        ExperimentConfig(name="x", methods=())
