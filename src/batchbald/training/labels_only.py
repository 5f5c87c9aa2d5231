"""Training when no labelled validation set is free: the team's own labels select the model.

The papers validate on 1,024 free labels; a labelling team has none. This regime uses only the
labels it trains on (docs/campaigns.md):

- **held-out** (at least ``min_holdout_labels`` labels): a stable fraction of the labelled items
  (chosen by a hash of each item's ``source_index``, so an item once held out stays held out as
  the set grows) is the validation set of :func:`~batchbald.training.train_model`'s early
  stopping; the model trains on the rest. Its accuracy on the held-out items at the restored
  epoch is the honest-but-slightly-optimistic estimate reported with its count.
- **fixed** (fewer labels): ``fixed_epochs`` epochs on all labels, no selection, no estimate.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule
from batchbald.training._epochs import PermutationStream, run_epoch
from batchbald.training.config import TrainingConfig
from batchbald.training.train import train_model

__all__ = ["LabelsOnlyRegime", "LabelsOnlyResult", "held_out_mask", "train_labels_only"]


@dataclass(frozen=True)
class LabelsOnlyRegime:
    """How a model is trained and selected from the labels alone.

    Attributes:
        holdout_fraction: share of the labelled items held out for early stopping, in (0, 1).
        min_holdout_labels: below this many labels the fixed regime is used.
        fixed_epochs: epochs of the fixed regime.
    """

    holdout_fraction: float = 0.2
    min_holdout_labels: int = 50
    fixed_epochs: int = 10

    def __post_init__(self) -> None:
        if not (isinstance(self.holdout_fraction, float) and 0 < self.holdout_fraction < 1):
            raise InvalidInputError(
                f"holdout_fraction must be a float in (0, 1); got {self.holdout_fraction!r}"
            )
        for name in ("min_holdout_labels", "fixed_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise InvalidInputError(f"{name} must be an int ≥ 2; got {value!r}")


@dataclass(frozen=True)
class LabelsOnlyResult:
    """The trained model and what the labels say about it.

    Attributes:
        model: trained, eval mode.
        regime: "held-out" or "fixed" (or "untrained" with no labels).
        epochs_trained, best_epoch: from training (best = last in the fixed regime).
        holdout_size: labels held out (0 in the fixed regime).
        holdout_correct: of those, predicted correctly at the restored epoch.
    """

    model: BayesianModule
    regime: str
    epochs_trained: int
    best_epoch: int
    holdout_size: int = 0
    holdout_correct: int = 0

    @property
    def holdout_accuracy(self) -> float:
        """``holdout_correct / holdout_size`` (NaN without a held-out set)."""
        return self.holdout_correct / self.holdout_size if self.holdout_size else math.nan


def held_out_mask(source_index_N: torch.Tensor, fraction: float) -> torch.Tensor:
    """Rows held out (bool ``[N]``): a stable hash of each ``source_index`` decides.

    >>> share = held_out_mask(torch.arange(1000), 0.2).float().mean().item()
    >>> 0.17 < share < 0.23
    True
    """
    threshold = int(fraction * 2**32)
    keys = [
        int.from_bytes(hashlib.sha256(f"holdout/{int(i)}".encode()).digest()[:4], "little")
        for i in source_index_N.tolist()
    ]
    return torch.tensor([key < threshold for key in keys], dtype=torch.bool)


def train_labels_only(
    model: BayesianModule,
    train: ImageData,
    config: TrainingConfig,
    regime: LabelsOnlyRegime,
    *,
    generator: torch.Generator | None,
) -> LabelsOnlyResult:
    """Train ``model`` on ``train`` (≥ 1 point) under ``regime`` (see the module docstring)."""
    held = held_out_mask(train.source_index, regime.holdout_fraction)
    count = int(held.sum())
    if len(train) >= regime.min_holdout_labels and 0 < count < len(train):
        fit = train.subset(torch.nonzero(~held).flatten())
        holdout = train.subset(torch.nonzero(held).flatten())
        result = train_model(model, fit, holdout, config, generator=generator)
        best = result.best_record
        return LabelsOnlyResult(
            result.model, "held-out", result.epochs_trained, result.best_epoch,
            holdout_size=count, holdout_correct=round(best.val_accuracy * count),
        )  # fmt: skip
    _train_fixed(model, train, config, regime.fixed_epochs, generator)
    return LabelsOnlyResult(model.eval(), "fixed", regime.fixed_epochs, regime.fixed_epochs)


def _train_fixed(
    model: BayesianModule,
    train: ImageData,
    config: TrainingConfig,
    epochs: int,
    generator: torch.Generator | None,
) -> None:
    device = torch.device(config.device)
    model.to(device)
    inputs, labels = train.inputs.to(device), train.labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    stream = PermutationStream(len(train), generator=generator)

    def batch_loss(batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(device)
        log_probs_B_C = model(inputs[batch], 1, generator=generator).squeeze(1)
        return F.nll_loss(log_probs_B_C, labels[batch])

    for _ in range(epochs):
        run_epoch(model, optimizer, stream.take(config.epoch_size), batch_loss, config)
