"""TrainingConfig: the paper's defaults and validation that names the offending field."""

from __future__ import annotations

import dataclasses

import pytest

from batchbald.errors import ConfigError
from batchbald.training import TrainingConfig


def test_defaults_are_the_batchbald_mnist_regime():
    config = TrainingConfig()
    assert (config.lr, config.batch_size, config.epoch_size) == (1e-3, 64, 5056)
    assert (config.max_epochs, config.patience, config.early_stopping) == (30, 3, "accuracy")
    assert (config.weight_decay, config.validation_samples, config.device) == (0.0, 0, "cpu")
    assert config.channels_last  # a memory layout: the same maths, faster on CPU


def test_report_regime_is_expressible():
    config = TrainingConfig(
        weight_decay=5e-4,
        epoch_size=24_576,
        max_epochs=10,
        early_stopping="nll",
        validation_samples=4,
    )
    assert config.early_stopping == "nll"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", 0.0, "TrainingConfig.lr must be a finite number > 0; got 0.0"),
        ("lr", float("nan"), "TrainingConfig.lr must be a finite number > 0"),
        ("batch_size", 0, "TrainingConfig.batch_size must be an int ≥ 1; got 0"),
        ("epoch_size", 10.0, "TrainingConfig.epoch_size must be an int ≥ 1; got 10.0"),
        ("max_epochs", True, "TrainingConfig.max_epochs must be an int ≥ 1; got True"),
        ("patience", -1, "TrainingConfig.patience must be an int ≥ 1; got -1"),
        ("early_stopping", "loss", "TrainingConfig.early_stopping must be one of accuracy, nll"),
        ("weight_decay", -1e-4, "TrainingConfig.weight_decay must be a finite number ≥ 0"),
        ("validation_samples", -1, r"TrainingConfig.validation_samples must be an int ≥ 0 \(0 ="),
        ("device", "gpu0", r"TrainingConfig.device must be a device .*: not a torch device string"),
        ("channels_last", "yes", "TrainingConfig.channels_last must be true or false; got 'yes'"),
    ],
)
def test_rejects_bad_fields(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainingConfig(**{field: value})


def test_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainingConfig().lr = 0.1  # type: ignore[misc]
