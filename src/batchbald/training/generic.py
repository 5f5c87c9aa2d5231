"""The loop's ``Learner`` for any :class:`~batchbald.models.ModelSpec`.

User networks with consistent MC dropout, last-layer posteriors over a frozen backbone, deep
ensembles, and MLPs over precomputed embeddings.

Each step builds a fresh model from the spec (init from ``generators.init``, the spec's weights
file loaded), trains it with :func:`~batchbald.training.train_model` (optimiser, epochs, early
stopping, frozen parameters and class weights from the :class:`TrainingConfig`), and for the
Laplace head fits the posterior on the labelled features. Last-layer models of every step share
one :class:`~batchbald.models.FeatureCache`, so a frozen backbone runs once per input over a
whole trial.
"""

from __future__ import annotations

import dataclasses

from batchbald.data import ImageData
from batchbald.loop import LoopGenerators
from batchbald.models import (
    BayesianModule,
    FeatureCache,
    LaplaceHead,
    LastLayerModel,
    ModelSpec,
    build_from_spec,
)
from batchbald.training.config import TrainingConfig
from batchbald.training.learner import TrainedLearner

__all__ = ["GenericLearner"]


class GenericLearner(TrainedLearner):
    """Fresh model per step from ``spec``, trained with ``train_model``.

    Args:
        spec: the model kind, posterior, weights file and options.
        num_classes: C.
        training: the training recipe. For ensembles, validation uses every member
            (``validation_samples`` is raised to M).
        test_k: posterior samples for test evaluation (at most M for an ensemble).
        inference_batch_size: inputs per scoring chunk (memory only); None: the default.
    """

    def _bind(
        self, spec: ModelSpec, training: TrainingConfig, test_k: int
    ) -> tuple[TrainingConfig, int]:
        self.spec, self.cache = spec, FeatureCache()
        if spec.kind == "ensemble":
            samples = max(training.validation_samples, spec.members)
            training = dataclasses.replace(training, validation_samples=samples)
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

    def _after_training(self, model: BayesianModule, train: ImageData) -> None:
        """Fit a Laplace head's posterior on the labelled features."""
        if isinstance(model, LastLayerModel) and isinstance(model.head, LaplaceHead):
            model.head.fit_posterior(model.embed(train.inputs.to(self.training.device)))
