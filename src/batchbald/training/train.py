"""Training one model from scratch with fixed-length epochs and early stopping (BatchBALD paper)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule
from batchbald.training._epochs import PermutationStream, run_epoch
from batchbald.training.config import TrainingConfig
from batchbald.training.evaluate import evaluate
from batchbald.training.regime import class_weight_tensor, make_optimizer

__all__ = ["EpochRecord", "TrainingResult", "train_model"]


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: mean training NLL and the validation metrics after it (epochs count from 1)."""

    epoch: int
    train_loss: float
    val_accuracy: float
    val_nll: float


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train_model` returns.

    Attributes:
        model: the trained model with the best epoch's weights, in eval mode.
        epochs_trained: epochs run before stopping.
        best_epoch: epoch whose weights were restored (the distillation length in §2).
        best_metric: its validation metric (accuracy or NLL, see ``metric``).
        metric: "accuracy" or "nll".
        history: one :class:`EpochRecord` per epoch.
        wall_time_s: seconds spent in :func:`train_model`.
    """

    model: BayesianModule
    epochs_trained: int
    best_epoch: int
    best_metric: float
    metric: str
    history: tuple[EpochRecord, ...]
    wall_time_s: float

    @property
    def best_record(self) -> EpochRecord:
        """The :class:`EpochRecord` of the restored (best) epoch."""
        return self.history[self.best_epoch - 1]


def check_dataset(data: object, name: str) -> ImageData:
    """Validate a non-empty :class:`ImageData` argument."""
    if not isinstance(data, ImageData):
        raise InvalidInputError(f"{name} must be a batchbald.data.ImageData; got {type(data)}")
    if len(data) == 0:
        raise InvalidInputError(f"{name} must hold at least one labelled point; got 0")
    return data


def check_model(model: object) -> BayesianModule:
    """Validate a :class:`BayesianModule` argument."""
    if not isinstance(model, BayesianModule):
        raise InvalidInputError(
            f"model must be a batchbald.models.BayesianModule; got {type(model).__name__}"
        )
    return model


def _improved(value: float, best: float | None, metric: str) -> bool:
    if best is None:
        return True
    return value > best if metric == "accuracy" else value < best


def train_model(
    model: BayesianModule,
    train: ImageData,
    validation: ImageData,
    config: TrainingConfig,
    *,
    generator: torch.Generator | None = None,
    on_epoch: Callable[[EpochRecord], object] | None = None,
) -> TrainingResult:
    """Train a freshly initialised model with fixed-length epochs and early stopping.

    The optimiser (Adam by default, or SGD), frozen parameters and class weights come from
    ``config``.

    After every epoch the model is validated (``config.validation_samples`` MC samples, 0 =
    dropout off); training stops once the metric has not strictly improved for
    ``config.patience`` epochs or after ``config.max_epochs``; the best weights are restored.

    Args:
        model: built and initialised by the caller (seed its init through its ``generator``);
            moved to ``config.device`` and trained in place.
        train: the labelled set (any size ≥ 1).
        validation: the validation set (≥ 1 point).
        config: hyperparameters.
        generator: source of the epoch permutations, training dropout masks and validation
            masks; the same generator state gives identical weights on CPU.
        on_epoch: called with each :class:`EpochRecord` (progress reporting).

    Returns:
        :class:`TrainingResult`.
    """
    _check_arguments(model, train, validation, config)
    start = time.perf_counter()
    model.to(torch.device(config.device))
    epoch_record = _epoch_runner(model, train, validation, config, generator)
    return _early_stopping(model, epoch_record, config, on_epoch, start)


def _epoch_runner(
    model: BayesianModule,
    train: ImageData,
    validation: ImageData,
    config: TrainingConfig,
    generator: torch.Generator | None,
) -> Callable[[int], EpochRecord]:
    """``epoch_record(epoch)``: train one epoch, validate, and say how it went."""
    device = torch.device(config.device)
    optimizer = make_optimizer(model, config)
    stream = PermutationStream(len(train), generator=generator)
    weights = class_weight_tensor(config, train.labels, train.num_classes)
    batch_loss = nll_batch_loss(model, train, device, generator, weights)

    def epoch_record(epoch: int) -> EpochRecord:
        loss = run_epoch(model, optimizer, stream.take(config.epoch_size), batch_loss, config)
        scores = evaluate(model, validation, config.validation_samples, generator=generator)
        return EpochRecord(epoch, loss, scores.accuracy, scores.nll)

    return epoch_record


def _early_stopping(
    model: BayesianModule,
    epoch_record: Callable[[int], EpochRecord],
    config: TrainingConfig,
    on_epoch: Callable[[EpochRecord], object] | None,
    start: float,
) -> TrainingResult:
    """Run epochs until the metric stalls, restore the best weights, and report."""
    history: list[EpochRecord] = []
    best_metric: float | None = None
    best_epoch, best_state = 0, copy.deepcopy(model.state_dict())
    for epoch in range(1, config.max_epochs + 1):
        history.append(epoch_record(epoch))
        if on_epoch is not None:
            on_epoch(history[-1])
        record = history[-1]
        value = record.val_accuracy if config.early_stopping == "accuracy" else record.val_nll
        if _improved(value, best_metric, config.early_stopping):
            best_metric, best_epoch = value, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return TrainingResult(
        model=model,
        epochs_trained=len(history),
        best_epoch=best_epoch,
        best_metric=float(best_metric if best_metric is not None else float("nan")),
        metric=config.early_stopping,
        history=tuple(history),
        wall_time_s=time.perf_counter() - start,
    )


def _check_arguments(
    model: BayesianModule, train: ImageData, validation: ImageData, config: TrainingConfig
) -> None:
    check_model(model)
    check_dataset(train, "train")
    check_dataset(validation, "validation")
    if not isinstance(config, TrainingConfig):
        raise InvalidInputError(f"config must be a TrainingConfig; got {type(config).__name__}")


def nll_batch_loss(
    model: BayesianModule,
    train: ImageData,
    device: torch.device,
    generator: torch.Generator | None,
    weights: torch.Tensor | None = None,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The mean (class-weighted) NLL of a batch, one dropout sample per example.

    An ensemble in training mode returns all M members as samples; the loss is then the sum
    of the members' mean NLLs (equal to the plain mean NLL when K = 1).
    """
    inputs, labels = train.inputs.to(device), train.labels.to(device)
    weights = weights.to(device) if weights is not None else None

    def batch_loss(batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(device)
        log_probs_B_K_C = model(inputs[batch], 1, generator=generator)
        k = log_probs_B_K_C.shape[1]
        targets = labels[batch].repeat_interleave(k)
        return F.nll_loss(log_probs_B_K_C.flatten(0, 1), targets, weight=weights) * k

    return batch_loss
