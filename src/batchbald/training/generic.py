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
from batchbald.loop import Fitted, LoopGenerators
from batchbald.models import (
    BayesianModule,
    FeatureCache,
    LaplaceHead,
    LastLayerModel,
    ModelSpec,
    build_from_spec,
)
from batchbald.training.config import TrainingConfig
from batchbald.training.ensemble import member_config, train_members
from batchbald.training.evaluate import evaluate
from batchbald.training.learner import TrainedLearner
from batchbald.training.train import train_model

__all__ = ["GenericLearner"]


class GenericLearner(TrainedLearner):
    """Fresh model per step from ``spec``, trained with ``train_model``.

    Args:
        spec: the model kind, posterior, weights file and options.
        num_classes: C.
        training: the training recipe. Each member of an ensemble is trained with it on its
            own, in ``spec.workers`` threads (validation with dropout off).
        test_k: posterior samples for test evaluation (at most M for an ensemble).
        inference_batch_size: inputs per scoring chunk (memory only); None: the default.
    """

    def _bind(
        self, spec: ModelSpec, training: TrainingConfig, test_k: int
    ) -> tuple[TrainingConfig, int]:
        self.spec, self.cache = spec, FeatureCache()
        if spec.kind == "ensemble":
            test_k = min(test_k, spec.members)
        if spec.kind not in ("mnist_cnn", "emnist_cnn"):
            # The channels-last layout was measured to help the paper's CNNs only; off elsewhere.
            training = dataclasses.replace(training, channels_last=False)
        return training, test_k

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
        if self.spec.kind != "ensemble" or len(train) == 0:
            return super().fit(train, validation, generators)
        model = self.new_model(generators, tuple(train.inputs.shape[1:]))
        config = member_config(self.training)

        def train_one(member: Any, generator: torch.Generator, index: int) -> Any:
            return train_model(member, train, validation, config, generator=generator)

        model, results = train_members(
            model, train_one, generator=generators.training, workers=self.spec.workers
        )
        accuracy = (
            evaluate(model, validation, model.num_members).accuracy if len(validation) else math.nan
        )
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

    _after_training = finish
