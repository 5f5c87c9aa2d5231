"""The loop's ``Learner`` for any :class:`~batchbald.models.ModelSpec`.

User networks with consistent MC dropout, last-layer posteriors over a frozen backbone, deep
ensembles, and MLPs over precomputed embeddings.

Each step builds a fresh model from the spec (init from ``generators.init``, the spec's weights
file loaded), trains it with :func:`~batchbald.training.train_model` (optimiser, epochs, early
stopping, frozen parameters and class weights from the :class:`TrainingConfig`; an ensemble's
members each on its own, :mod:`batchbald.training.ensemble`), and for the Laplace head fits the
posterior on the labelled features. Last-layer models of every step share
one :class:`~batchbald.models.FeatureCache`, so a frozen backbone runs once per input over a
whole trial.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from batchbald.data import ImageData
from batchbald.errors import ModelError
from batchbald.loop import Fitted, LoopGenerators
from batchbald.models import (
    BayesianModule,
    DeepEnsemble,
    FeatureCache,
    LaplaceHead,
    LastLayerModel,
    ModelSpec,
    build_from_spec,
    predict_embeddings,
    predict_log_probs,
)
from batchbald.training.config import TrainingConfig
from batchbald.training.distill import self_distill
from batchbald.training.ensemble import member_config, train_members
from batchbald.training.evaluate import evaluate
from batchbald.training.train import train_model

__all__ = ["GenericLearner"]


class GenericLearner:
    """Fresh model per step from ``spec``, trained with ``train_model``.

    Args:
        spec: the model kind, posterior, weights file and options.
        num_classes: C.
        training: the training recipe. Each member of an ensemble is trained with it on its
            own, in ``spec.workers`` threads (validation with dropout off).
        test_k: posterior samples for test evaluation (at most M for an ensemble).
        inference_batch_size: inputs per scoring chunk (memory only); None: the default.
    """

    def __init__(
        self,
        spec: ModelSpec,
        num_classes: int,
        training: TrainingConfig,
        *,
        test_k: int = 10,
        inference_batch_size: int | None = None,
    ) -> None:
        self.spec, self.num_classes, self.test_k = spec, num_classes, test_k
        if spec.kind == "ensemble":
            self.test_k = min(test_k, spec.members)
        if spec.kind not in ("mnist_cnn", "emnist_cnn"):
            # The channels-last layout was measured to help the paper's CNNs only; off elsewhere.
            training = dataclasses.replace(training, channels_last=False)
        self.training = training
        self.inference_batch_size = inference_batch_size
        self.cache = FeatureCache()

    def new_model(self, generators: LoopGenerators, input_shape: tuple[int, ...]) -> BayesianModule:
        """A fresh model (weights from ``generators.init`` and the spec's file)."""
        return build_from_spec(
            self.spec, self.num_classes, input_shape, generator=generators.init, cache=self.cache
        )

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """Train a fresh model on ``train``; early stopping on ``validation``.

        An ensemble's members are trained each on its own (:func:`train_members`): own data
        order, own early stopping; the validation accuracy is then the ensemble's.
        """
        model = self.new_model(generators, tuple(train.inputs.shape[1:]))
        if len(train) == 0:  # cold start: score the pool with the untrained network
            return Fitted(model.eval(), epochs_trained=0, best_epoch=0)
        if isinstance(model, DeepEnsemble):
            return self._fit_ensemble(model, train, validation, generators)
        result = train_model(model, train, validation, self.training, generator=generators.training)
        self.finish(result.model, train)
        best = result.history[result.best_epoch - 1] if result.best_epoch else None
        return Fitted(
            result.model,
            epochs_trained=result.epochs_trained,
            best_epoch=result.best_epoch,
            validation_accuracy=best.val_accuracy if best else math.nan,
        )

    def _fit_ensemble(
        self, model: DeepEnsemble, train: ImageData, validation: ImageData, generators: Any
    ) -> Fitted:
        config = member_config(self.training)

        def train_one(member: Any, generator: torch.Generator, index: int) -> Any:
            return train_model(member, train, validation, config, generator=generator)

        model, results = train_members(
            model, train_one, generator=generators.training, workers=self.spec.workers
        )
        accuracy = evaluate(model, validation, model.num_members).accuracy
        return Fitted(
            model,
            epochs_trained=max(result.epochs_trained for result in results),
            best_epoch=max(result.best_epoch for result in results),
            validation_accuracy=accuracy,
        )

    def finish(self, model: BayesianModule, train: ImageData) -> None:
        """After training: fit a Laplace head's posterior on the labelled features."""
        if isinstance(model, LastLayerModel) and isinstance(model.head, LaplaceHead):
            model.head.fit_posterior(model.embed(train.inputs.to(self.training.device)))

    def evaluate(
        self, model: Any, data: ImageData, generators: LoopGenerators
    ) -> tuple[float, float]:
        """(accuracy, NLL) with ``test_k`` posterior samples averaged."""
        scores = evaluate(
            model, data, self.test_k, batch_size=self.inference_batch_size,
            generator=generators.dropout,
        )  # fmt: skip
        return scores.accuracy, scores.nll

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """``log_probs_N_K_C`` with K posterior samples shared by every input."""
        return predict_log_probs(
            model, inputs, k, batch_size=self.inference_batch_size, generator=generators.dropout
        )

    def embed(self, model: Any, inputs: torch.Tensor, generators: LoopGenerators) -> torch.Tensor:
        """Penultimate features ``[N, D]`` (``model.embed``), for BADGE and coreset (issue 24)."""
        return predict_embeddings(model, inputs, batch_size=self.inference_batch_size)

    def distill(
        self, teacher: Any, inputs: torch.Tensor, epochs: int, generators: LoopGenerators
    ) -> Any:
        """A fresh model self-distilled from ``teacher`` (not for ensembles)."""
        if isinstance(teacher, DeepEnsemble):
            raise ModelError("self-distillation of an ensemble is not supported")
        student = self.new_model(generators, tuple(inputs.shape[1:]))
        return self_distill(
            teacher, student, inputs, self.training, epochs,
            k=self.test_k, generator=generators.training,
        )  # fmt: skip
