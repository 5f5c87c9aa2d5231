"""train_model: reproducibility, fixed-length epochs, strict early stopping, best weights."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import MNISTBayesianCNN, predict_log_probs
from batchbald.training import Evaluation, TrainingConfig, evaluate, train_model
from batchbald.training import train as train_module
from batchbald.training._epochs import PermutationStream, run_epoch


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _blobs(n: int, seed: int) -> ImageData:
    """Three Gaussian blobs in 4-D, well separated."""
    generator = _gen(seed)
    labels = torch.arange(n) % 3
    centres = torch.eye(3, 4) * 4.0
    inputs = centres[labels] + torch.randn(n, 4, generator=generator)
    return ImageData(inputs, labels, 3)


SMALL = TrainingConfig(batch_size=8, epoch_size=64, max_epochs=6, patience=2)


def test_learns_separable_data(tiny_mlp):
    result = train_model(tiny_mlp(0), _blobs(30, 1), _blobs(60, 2), SMALL, generator=_gen(3))
    assert result.best_metric > 0.9
    assert not result.model.training
    assert result.wall_time_s > 0
    assert [record.epoch for record in result.history] == list(range(1, result.epochs_trained + 1))


def test_same_seeds_give_identical_weights_and_predictions():
    def run(seed: int):
        model = MNISTBayesianCNN(generator=_gen(0))
        data = ImageData(torch.randn(12, 1, 28, 28, generator=_gen(1)), torch.arange(12) % 10, 10)
        config = TrainingConfig(batch_size=4, epoch_size=8, max_epochs=2, validation_samples=2)
        return train_model(model, data, data, config, generator=_gen(seed)).model

    first, second, other = run(5), run(5), run(6)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.fc1.weight, other.fc1.weight)
    pool = torch.randn(5, 1, 28, 28, generator=_gen(2))
    assert torch.equal(
        predict_log_probs(first, pool, 3, generator=_gen(7)),
        predict_log_probs(second, pool, 3, generator=_gen(7)),
    )


def test_channels_last_training_is_the_same_maths_and_restores_the_layout():
    """Channels-last steps round differently, so weights agree closely, not bitwise."""

    def run(channels_last: bool) -> MNISTBayesianCNN:
        model = MNISTBayesianCNN(generator=_gen(0))
        data = ImageData(torch.randn(12, 1, 28, 28, generator=_gen(1)), torch.arange(12) % 10, 10)
        config = TrainingConfig(
            batch_size=4, epoch_size=8, max_epochs=2, channels_last=channels_last
        )
        return train_model(model, data, data, config, generator=_gen(5)).model

    default, fast = run(False), run(True)
    for name, weight in fast.state_dict().items():
        assert weight.is_contiguous(), f"{name} left in the channels-last layout"
        # Two epochs of Adam at lr 1e-3 move weights by ~1e-2; the layouts differ by rounding.
        assert torch.allclose(weight, default.state_dict()[name], rtol=0, atol=1e-5), name
    assert fast.conv1.weight.is_contiguous(memory_format=torch.contiguous_format)


def test_an_interrupted_epoch_leaves_the_default_layout():
    model = MNISTBayesianCNN(generator=_gen(0))
    optimizer = torch.optim.Adam(model.parameters())

    def failing_loss(batch: torch.Tensor) -> torch.Tensor:
        assert model.conv2.weight.is_contiguous(memory_format=torch.channels_last)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        run_epoch(model, optimizer, torch.arange(4), failing_loss, TrainingConfig(batch_size=2))
    assert model.conv2.weight.is_contiguous()


def test_best_weights_are_restored(tiny_mlp):
    validation = _blobs(45, 2)
    config = TrainingConfig(batch_size=8, epoch_size=16, max_epochs=8, patience=2, lr=3e-3)
    result = train_model(tiny_mlp(0), _blobs(9, 1), validation, config, generator=_gen(4))
    accuracies = [record.val_accuracy for record in result.history]
    assert result.best_epoch == accuracies.index(max(accuracies)) + 1
    assert result.best_metric == result.best_record.val_accuracy
    assert evaluate(result.model, validation, 0).accuracy == result.best_record.val_accuracy
    stopped_early = result.epochs_trained < config.max_epochs
    assert not stopped_early or result.epochs_trained - result.best_epoch == config.patience


@pytest.mark.parametrize(
    ("metric", "values", "best_epoch", "epochs"),
    [
        # Ties are not improvements: stop 3 epochs after the best, even though epoch 6 is better.
        ("accuracy", [0.5, 0.6, 0.6, 0.6, 0.6, 0.9], 2, 5),
        ("nll", [1.0, 0.8, 0.8, 0.9, 0.85, 0.1], 2, 5),
        ("accuracy", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 7, 7),  # max_epochs reached
    ],
)
def test_early_stopping_is_strict(monkeypatch, metric, values, best_epoch, epochs, tiny_mlp):
    scripted = iter(values)

    def fake_evaluate(*_args, **_kwargs):
        value = next(scripted)
        return (
            Evaluation(accuracy=value, nll=math.nan)
            if metric == "accuracy"
            else (Evaluation(accuracy=math.nan, nll=value))
        )

    monkeypatch.setattr(train_module, "evaluate", fake_evaluate)
    config = TrainingConfig(
        batch_size=8, epoch_size=8, max_epochs=7, patience=3, early_stopping=metric
    )
    result = train_model(tiny_mlp(0), _blobs(6, 1), _blobs(6, 2), config, generator=_gen(0))
    assert (result.best_epoch, result.epochs_trained) == (best_epoch, epochs)
    assert result.best_metric == values[best_epoch - 1]


def test_epochs_have_fixed_length_whatever_the_set_size(tiny_mlp):
    model = tiny_mlp(0)
    sizes: list[int] = []
    model.hidden.register_forward_hook(
        lambda module, inputs, _out: sizes.append(inputs[0].shape[0]) if model.training else None
    )
    config = TrainingConfig(batch_size=16, epoch_size=50, max_epochs=2, patience=5)
    train_model(model, _blobs(3, 1), _blobs(6, 2), config, generator=_gen(0))
    assert sizes == [16, 16, 16, 2] * 2


def test_permutation_stream_is_balanced_and_resumable():
    whole = PermutationStream(7, generator=_gen(0)).take(7 * 3)
    for block in whole.view(3, 7):
        assert sorted(block.tolist()) == list(range(7))
    pieces = PermutationStream(7, generator=_gen(0))
    assert torch.equal(torch.cat([pieces.take(5), pieces.take(11), pieces.take(5)]), whole)
    counts = torch.bincount(PermutationStream(7, generator=_gen(1)).take(25), minlength=7)
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"train": ImageData(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 3)},
            "train must hold at least one labelled point",
        ),
        ({"validation": "data"}, "validation must be a batchbald.data.ImageData"),
        ({"config": {"lr": 1e-3}}, "config must be a TrainingConfig; got dict"),
        ({"model": nn.Linear(4, 3)}, "model must be a batchbald.models.BayesianModule"),
    ],
)
def test_rejects_bad_arguments(arguments, message, tiny_mlp):
    call = {
        "model": tiny_mlp(0),
        "train": _blobs(3, 0),
        "validation": _blobs(3, 1),
        "config": SMALL,
        **arguments,
    }
    with pytest.raises(InvalidInputError, match=message):
        train_model(
            call.pop("model"), call.pop("train"), call.pop("validation"), call.pop("config")
        )
