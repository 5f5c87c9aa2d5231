"""The package's MC-dropout CNNs as a :class:`~batchbald.loop.Learner`."""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.loop import Fitted, LoopGenerators
from batchbald.models import (
    BayesianModule,
    build_model,
    predict_embeddings,
    predict_log_probs,
)
from batchbald.training import TrainingConfig, evaluate, self_distill, train_model

__all__ = ["BayesianLearner", "build_learner"]


class BayesianLearner:
    """Fresh model per step (``build_model``), trained with ``train_model``.

    Args:
        model: a model name (``batchbald.models.available_models``).
        num_classes: C.
        training: the training recipe.
        test_k: MC samples for test evaluation (probabilities averaged, then argmax).
        inference_batch_size: inputs per chunk when scoring and evaluating (memory only);
            None uses the model's ``scoring_rows_per_chunk`` (about 1,024 (input, sample) rows).
    """

    def __init__(
        self,
        model: str,
        num_classes: int,
        training: TrainingConfig,
        *,
        test_k: int = 10,
        inference_batch_size: int | None = None,
    ) -> None:
        self.model_name, self.num_classes = model, num_classes
        self.training, self.test_k = training, test_k
        self.inference_batch_size = inference_batch_size

    def new_model(self, generators: LoopGenerators) -> BayesianModule:
        """A freshly initialised model (weights from ``generators.init``)."""
        return build_model(self.model_name, self.num_classes, generator=generators.init)

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """A fresh model trained with ``train_model`` (untrained on an empty ``train``)."""
        model = self.new_model(generators)
        if len(train) == 0:  # cold start: score the pool with the untrained network
            return Fitted(model.eval(), epochs_trained=0, best_epoch=0)
        result = train_model(model, train, validation, self.training, generator=generators.training)
        best = result.history[result.best_epoch - 1] if result.best_epoch else None
        return Fitted(
            result.model,
            epochs_trained=result.epochs_trained,
            best_epoch=result.best_epoch,
            validation_accuracy=best.val_accuracy if best else math.nan,
        )

    def _chunk(self) -> int | None:
        return self.inference_batch_size or None  # None: the model's default chunk

    def evaluate(
        self, model: Any, data: ImageData, generators: LoopGenerators
    ) -> tuple[float, float]:
        """Accuracy and NLL with ``test_k`` MC samples (masks from ``generators.dropout``)."""
        scores = evaluate(
            model,
            data,
            self.test_k,
            batch_size=self._chunk(),
            generator=generators.dropout,
        )
        return scores.accuracy, scores.nll

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """``[N, K, C]`` log-probabilities with K consistent masks from ``generators.dropout``."""
        return predict_log_probs(
            model, inputs, k, batch_size=self._chunk(), generator=generators.dropout
        )

    def embed(self, model: Any, inputs: torch.Tensor, generators: LoopGenerators) -> torch.Tensor:
        """Penultimate features ``[N, D]`` (``model.embed``), for BADGE and coreset (issue 24)."""
        return predict_embeddings(model, inputs, batch_size=self._chunk())

    def distill(
        self, teacher: Any, inputs: torch.Tensor, epochs: int, generators: LoopGenerators
    ) -> Any:
        """A fresh model self-distilled from ``teacher`` (``self_distill``, ``test_k`` samples)."""
        student = self.new_model(generators)
        return self_distill(
            teacher, student, inputs, self.training, epochs,
            k=self.test_k, generator=generators.training,
        )  # fmt: skip


def build_learner(config: Any, num_classes: int) -> Any:
    """The learner an :class:`~batchbald.experiments.config.ExperimentConfig` describes.

    With ``validation_size = 0``, every model uses
    :class:`~batchbald.experiments.labels_only.LabelsOnlyLearner` (the campaigns' regime: one
    code path with ``batchbald campaign propose``). Otherwise the paper's CNNs named by a
    string use :class:`BayesianLearner`; every other model (a ``[model]`` table or a new kind's
    name) the generic learner (:mod:`batchbald.training.generic`).
    """
    from batchbald.models import ModelSpec

    options = {
        "test_k": config.scoring.test_k,
        "inference_batch_size": config.scoring.batch_size or None,
    }
    training = TrainingConfig(**config.training)
    if config.data.validation_size == 0:
        from batchbald.experiments.labels_only import LabelsOnlyLearner

        return LabelsOnlyLearner(config.model, num_classes, training, **options)
    if isinstance(config.model, str) and config.model in ("mnist_cnn", "emnist_cnn"):
        return BayesianLearner(config.model, num_classes, training, **options)
    from batchbald.training.generic import GenericLearner

    spec = config.model if isinstance(config.model, ModelSpec) else ModelSpec(config.model)
    return GenericLearner(spec, num_classes, training, **options)
