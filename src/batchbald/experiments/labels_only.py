"""The learner of runs and campaigns without a free validation set (``validation_size = 0``).

Same models, scoring and distillation as :class:`~batchbald.experiments.learner.BayesianLearner`;
training follows :func:`batchbald.training.labels_only.train_labels_only`. Test evaluation
draws its masks from a generator derived from the dropout generator's seed, never from the
dropout generator itself, so a campaign (which has no test set) and ``batchbald run`` (which
evaluates on one) score the pool with the same masks and pick the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.experiments.learner import BayesianLearner
from batchbald.loop import Fitted, LoopGenerators, derive_seed
from batchbald.training import TrainingConfig
from batchbald.training.labels_only import LabelsOnlyRegime, LabelsOnlyResult, train_labels_only

__all__ = ["LabelsOnlyLearner"]


class LabelsOnlyLearner(BayesianLearner):
    """A :class:`BayesianLearner` trained and selected from its labels alone.

    Args:
        model, num_classes, training, test_k, inference_batch_size: see ``BayesianLearner``.
        regime: the labels-only regime.
        on_phase: called with ("training" | "scoring", 0.0) when a phase starts (progress).

    Attributes:
        last_fit: the :class:`LabelsOnlyResult` of the latest :meth:`fit` (None before).
    """

    def __init__(
        self,
        model: str,
        num_classes: int,
        training: TrainingConfig,
        *,
        regime: LabelsOnlyRegime | None = None,
        test_k: int = 10,
        inference_batch_size: int | None = None,
        on_phase: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            model, num_classes, training, test_k=test_k, inference_batch_size=inference_batch_size
        )
        self.regime = regime or LabelsOnlyRegime()
        self.on_phase = on_phase or (lambda phase: None)
        self.last_fit: LabelsOnlyResult | None = None

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """Train a fresh model on ``train``; ``validation`` is ignored (there is none)."""
        self.on_phase("training")
        model = self.new_model(generators)
        if len(train) == 0:
            self.last_fit = LabelsOnlyResult(model.eval(), "untrained", 0, 0)
        else:
            self.last_fit = train_labels_only(
                model, train, self.training, self.regime, generator=generators.training
            )
        fit = self.last_fit
        return Fitted(fit.model, fit.epochs_trained, fit.best_epoch, fit.holdout_accuracy)

    def evaluate(
        self, model: Any, data: ImageData, generators: LoopGenerators
    ) -> tuple[float, float]:
        """(accuracy, NLL) on ``data``; (NaN, NaN) for an empty set. Leaves ``generators`` as is."""
        if len(data) == 0:
            return math.nan, math.nan
        seed = derive_seed(generators.dropout.initial_seed(), "evaluation")
        private = LoopGenerators.from_seed(seed)
        return super().evaluate(model, data, private)

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """Log-probabilities ``[N, K, C]`` (see ``BayesianLearner.predict``)."""
        self.on_phase("scoring")
        return super().predict(model, inputs, k, generators)
