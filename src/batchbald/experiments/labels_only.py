"""The learner of runs and campaigns without a free validation set (``validation_size = 0``).

Any model a config or a campaign names (the paper's CNNs, ResNet-18 or a user's module with
any posterior, ensembles, MLPs over embeddings; :class:`~batchbald.models.ModelSpec`), built,
scored and distilled as :class:`~batchbald.training.generic.GenericLearner` does; training
follows :func:`batchbald.training.labels_only.train_labels_only` (an ensemble's members each
on their own). ``batchbald run`` and ``batchbald campaign propose`` both use this class, so a
campaign whose annotator answers the true labels picks what the run picks.

Test evaluation draws its masks from a generator derived from the dropout generator's seed,
never from the dropout generator itself, so a campaign (which has no test set) and ``batchbald
run`` (which evaluates on one) score the pool with the same masks and pick the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.loop import Fitted, LoopGenerators, derive_seed
from batchbald.models import DeepEnsemble, ModelSpec
from batchbald.training import TrainingConfig
from batchbald.training.generic import GenericLearner
from batchbald.training.labels_only import (
    LabelsOnlyRegime,
    LabelsOnlyResult,
    train_labels_only,
    train_labels_only_ensemble,
)

__all__ = ["LabelsOnlyLearner", "ProgressCallback"]

#: ``on_progress(phase, fraction)``: phase "training" or "scoring", the share of it done.
ProgressCallback = Callable[[str, float], object]


class LabelsOnlyLearner(GenericLearner):
    """A :class:`GenericLearner` trained and selected from its labels alone.

    Args:
        model: a model kind name (``batchbald list``) or a :class:`ModelSpec`.
        num_classes, training, test_k, inference_batch_size: see ``GenericLearner``.
        regime: the labels-only regime.
        on_progress: called as ``(phase, fraction)``: ("training", 0.0) when training starts,
            then after every epoch (the share of the most epochs it can take; an ensemble's
            members averaged), ("scoring", done / total) as pool chunks are scored.

    Attributes:
        last_fit: the :class:`LabelsOnlyResult` of the latest :meth:`fit` (None before).
    """

    def __init__(
        self,
        model: str | ModelSpec,
        num_classes: int,
        training: TrainingConfig,
        *,
        regime: LabelsOnlyRegime | None = None,
        test_k: int = 10,
        inference_batch_size: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        spec = model if isinstance(model, ModelSpec) else ModelSpec(model)
        super().__init__(
            spec, num_classes, training, test_k=test_k, inference_batch_size=inference_batch_size
        )
        self.regime = regime or LabelsOnlyRegime()
        self.on_progress = on_progress or (lambda phase, fraction: None)
        self.last_fit: LabelsOnlyResult | None = None

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """Train a fresh model on ``train``; ``validation`` is ignored (there is none)."""
        self.on_progress("training", 0.0)
        model = self.new_model(generators, tuple(train.inputs.shape[1:]))
        if len(train) == 0:
            self.last_fit = LabelsOnlyResult(model.eval(), "untrained", 0, 0)
        else:
            self.last_fit = self._train(model, train, generators.training)
            self.finish(self.last_fit.model, train)
        fit = self.last_fit
        return Fitted(fit.model, fit.epochs_trained, fit.best_epoch, fit.holdout_accuracy)

    def _train(self, model: Any, train: ImageData, generator: torch.Generator) -> LabelsOnlyResult:
        def report(fraction: float) -> None:
            self.on_progress("training", fraction)

        if isinstance(model, DeepEnsemble):
            return train_labels_only_ensemble(
                model, train, self.training, self.regime, generator=generator,
                workers=self.spec.workers, on_progress=report,
            )  # fmt: skip
        return train_labels_only(
            model, train, self.training, self.regime, generator=generator, on_progress=report
        )

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
        """Log-probabilities ``[N, K, C]`` (see ``GenericLearner.predict``), with progress."""
        from batchbald.models import predict_log_probs

        self.on_progress("scoring", 0.0)
        return predict_log_probs(
            model, inputs, k, batch_size=self.inference_batch_size, generator=generators.dropout,
            progress=lambda done, total: self.on_progress("scoring", done / max(total, 1)),
        )  # fmt: skip
