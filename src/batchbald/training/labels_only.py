"""Training when no labelled validation set is free: the team's own labels select the model.

The papers validate on 1,024 free labels; a labelling team has none. This regime uses only the
labels it trains on (docs/campaigns.md):

- **held-out** (at least ``min_holdout_labels`` labels): a stable fraction of the labelled items
  (chosen by a hash of each item's ``source_index``, so an item once held out stays held out as
  the set grows) is the validation set of :func:`~batchbald.training.train_model`'s early
  stopping; the model trains on the rest. Its accuracy on the held-out items at the restored
  epoch is the honest-but-slightly-optimistic estimate reported with its count.
- **fixed** (fewer labels): ``fixed_epochs`` epochs on all labels, no selection, no estimate.
  The optimiser, class weights and frozen parameters are the :class:`TrainingConfig`'s, as in
  the held-out regime.

Deep ensembles train each member on its own under the same regime
(:func:`train_labels_only_ensemble`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.models import BayesianModule, DeepEnsemble
from batchbald.training._epochs import PermutationStream, run_epoch
from batchbald.training.config import TrainingConfig
from batchbald.training.ensemble import EnsembleProgress, member_config, train_members
from batchbald.training.evaluate import evaluate
from batchbald.training.regime import class_weight_tensor, make_optimizer
from batchbald.training.train import nll_batch_loss, train_model

__all__ = [
    "LabelsOnlyRegime",
    "LabelsOnlyResult",
    "held_out_mask",
    "train_labels_only",
    "train_labels_only_ensemble",
]

#: ``on_progress(fraction)``: the share of a training done, in [0, 1].
Progress = Callable[[float], object]


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


def _held_out_split(
    train: ImageData, regime: LabelsOnlyRegime
) -> tuple[ImageData, ImageData] | None:
    """(fit, held-out) parts of ``train`` in the held-out regime; None in the fixed regime."""
    held = held_out_mask(train.source_index, regime.holdout_fraction)
    count = int(held.sum())
    if len(train) >= regime.min_holdout_labels and 0 < count < len(train):
        return train.subset(torch.nonzero(~held).flatten()), train.subset(
            torch.nonzero(held).flatten()
        )
    return None


def train_labels_only(
    model: BayesianModule,
    train: ImageData,
    config: TrainingConfig,
    regime: LabelsOnlyRegime,
    *,
    generator: torch.Generator | None,
    on_progress: Progress | None = None,
) -> LabelsOnlyResult:
    """Train ``model`` on ``train`` (≥ 1 point) under ``regime`` (see the module docstring).

    Args:
        model: freshly built; trained in place.
        train: the labelled items (``source_index`` decides the held-out ones).
        config: optimiser, epochs, early stopping and the rest of the recipe.
        regime: the labels-only regime.
        generator: data order and training dropout masks.
        on_progress: called after each epoch with the fraction of the most epochs this
            training can take (``max_epochs``, or ``fixed_epochs``) done so far.
    """
    split = _held_out_split(train, regime)
    report = on_progress or (lambda fraction: None)
    if split is not None:
        fit, holdout = split
        result = train_model(
            model, fit, holdout, config, generator=generator,
            on_epoch=lambda record: report(record.epoch / config.max_epochs),
        )  # fmt: skip
        best = result.best_record
        return LabelsOnlyResult(
            result.model, "held-out", result.epochs_trained, result.best_epoch,
            holdout_size=len(holdout), holdout_correct=round(best.val_accuracy * len(holdout)),
        )  # fmt: skip
    _train_fixed(model, train, config, regime.fixed_epochs, generator, report)
    return LabelsOnlyResult(model.eval(), "fixed", regime.fixed_epochs, regime.fixed_epochs)


def train_labels_only_ensemble(
    ensemble: DeepEnsemble,
    train: ImageData,
    config: TrainingConfig,
    regime: LabelsOnlyRegime,
    *,
    generator: torch.Generator | None,
    workers: int = 0,
    on_progress: Progress | None = None,
) -> LabelsOnlyResult:
    """:func:`train_labels_only` for each member on its own (its own generator and data order).

    Every member sees the same held-out split (it is a hash of the items). The result's
    held-out accuracy is the ensemble's (all M members averaged); ``epochs_trained`` and
    ``best_epoch`` are the members' largest. ``on_progress`` gets the members' mean fraction.
    """
    progress = EnsembleProgress(ensemble.num_members, on_progress)
    per_member = member_config(config)

    def train_one(member: BayesianModule, member_generator: torch.Generator, index: int) -> Any:
        return train_labels_only(member, train, per_member, regime, generator=member_generator,
                                 on_progress=progress.member(index))  # fmt: skip

    model, results = train_members(ensemble, train_one, generator=generator, workers=workers)
    split, correct = _held_out_split(train, regime), 0
    if split is not None:
        correct = round(evaluate(model, split[1], model.num_members).accuracy * len(split[1]))
    return LabelsOnlyResult(
        model, results[0].regime, max(r.epochs_trained for r in results),
        max(r.best_epoch for r in results), results[0].holdout_size, correct,
    )  # fmt: skip


def _train_fixed(
    model: BayesianModule,
    train: ImageData,
    config: TrainingConfig,
    epochs: int,
    generator: torch.Generator | None,
    report: Progress,
) -> None:
    """``epochs`` epochs on all of ``train`` with ``config``'s optimiser, loss and weights."""
    device = torch.device(config.device)
    model.to(device)
    optimizer = make_optimizer(model, config)
    stream = PermutationStream(len(train), generator=generator)
    weights = class_weight_tensor(config, train.labels, train.num_classes)
    batch_loss = nll_batch_loss(model, train, device, generator, weights)
    for epoch in range(1, epochs + 1):
        run_epoch(model, optimizer, stream.take(config.epoch_size), batch_loss, config)
        report(epoch / epochs)
