"""The loop's ``Learner`` for a model built afresh at every step and trained with ``train_model``.

:class:`TrainedLearner` holds what the paper's CNNs
(:class:`~batchbald.experiments.learner.BayesianLearner`) and every other model spec
(:class:`~batchbald.training.generic.GenericLearner`) share: the settings, training with early
stopping, test evaluation, pool scoring, embeddings and self-distillation. A subclass says which
model it builds (:meth:`TrainedLearner.new_model`) and how the recipe adapts to it.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.errors import ModelError
from batchbald.loop import Fitted, LoopGenerators
from batchbald.models import BayesianModule, DeepEnsemble, predict_embeddings, predict_log_probs
from batchbald.training.config import TrainingConfig
from batchbald.training.distill import self_distill
from batchbald.training.evaluate import evaluate
from batchbald.training.train import train_model

__all__ = ["TrainedLearner"]


class TrainedLearner:
    """Fresh model per step (:meth:`new_model`), trained with ``train_model``.

    Args:
        model: what :meth:`new_model` builds (a model name, a ``ModelSpec``), kept by
            :meth:`_bind`.
        num_classes: C.
        training: the training recipe (a subclass may adapt it to the model).
        test_k: posterior samples for test evaluation (probabilities averaged, then argmax).
        inference_batch_size: inputs per chunk when scoring and evaluating (memory only); None
            (or 0) uses the model's ``scoring_rows_per_chunk`` (about 1,024 (input, sample)
            rows).
    """

    def __init__(
        self,
        model: Any,
        num_classes: int,
        training: TrainingConfig,
        *,
        test_k: int = 10,
        inference_batch_size: int | None = None,
    ) -> None:
        self.num_classes, self.inference_batch_size = num_classes, inference_batch_size
        self.training, self.test_k = self._bind(model, training, test_k)

    def _bind(
        self, model: Any, training: TrainingConfig, test_k: int
    ) -> tuple[TrainingConfig, int]:
        """Keep ``model``; return the recipe and ``test_k`` adapted to it (subclasses)."""
        raise NotImplementedError

    def new_model(self, generators: LoopGenerators, input_shape: tuple[int, ...]) -> BayesianModule:
        """A fresh model for inputs of ``input_shape`` (weights from ``generators.init``)."""
        raise NotImplementedError

    def _after_training(self, model: BayesianModule, train: ImageData) -> None:
        """Finish a model that ``train_model`` has just trained on ``train`` (subclasses)."""

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """Train a fresh model on ``train``; early stopping on ``validation``.

        An empty ``train`` (cold start) gives the untrained network, to score the pool with.
        """
        model = self.new_model(generators, tuple(train.inputs.shape[1:]))
        if len(train) == 0:
            return Fitted(model.eval(), epochs_trained=0, best_epoch=0)
        result = train_model(model, train, validation, self.training, generator=generators.training)
        self._after_training(model, train)
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
        """(accuracy, NLL) with ``test_k`` posterior samples (masks from ``generators.dropout``)."""
        scores = evaluate(
            model, data, self.test_k, batch_size=self._chunk(), generator=generators.dropout
        )
        return scores.accuracy, scores.nll

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """``[N, K, C]`` log-probabilities with K posterior samples shared by every input."""
        return predict_log_probs(
            model, inputs, k, batch_size=self._chunk(), generator=generators.dropout
        )

    def embed(self, model: Any, inputs: torch.Tensor, generators: LoopGenerators) -> torch.Tensor:
        """Penultimate features ``[N, D]`` (``model.embed``), for BADGE and coreset (issue 24)."""
        return predict_embeddings(model, inputs, batch_size=self._chunk())

    def distill(
        self, teacher: Any, inputs: torch.Tensor, epochs: int, generators: LoopGenerators
    ) -> Any:
        """A fresh model self-distilled from ``teacher`` (``test_k`` samples; not ensembles)."""
        if isinstance(teacher, DeepEnsemble):
            raise ModelError("self-distillation of an ensemble is not supported")
        student = self.new_model(generators, tuple(inputs.shape[1:]))
        return self_distill(
            teacher, student, inputs, self.training, epochs,
            k=self.test_k, generator=generators.training,
        )  # fmt: skip
