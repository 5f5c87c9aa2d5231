"""The package's MC-dropout CNNs as a :class:`~batchbald.loop.Learner`."""

from __future__ import annotations

from typing import Any

from batchbald.loop import LoopGenerators
from batchbald.models import BayesianModule, build_model
from batchbald.training import TrainingConfig
from batchbald.training.learner import TrainedLearner

__all__ = ["BayesianLearner", "build_learner"]


class BayesianLearner(TrainedLearner):
    """Fresh model per step (``build_model``), trained with ``train_model``.

    Args:
        model: a model name (``batchbald.models.available_models``).
        num_classes: C.
        training: the training recipe.
        test_k: MC samples for test evaluation (probabilities averaged, then argmax).
        inference_batch_size: inputs per chunk when scoring and evaluating (memory only);
            None uses the model's ``scoring_rows_per_chunk`` (about 1,024 (input, sample) rows).
    """

    def _bind(
        self, model: Any, training: TrainingConfig, test_k: int
    ) -> tuple[TrainingConfig, int]:
        self.model_name = model
        return training, test_k

    def new_model(
        self, generators: LoopGenerators, input_shape: tuple[int, ...] = ()
    ) -> BayesianModule:
        """A freshly initialised model (weights from ``generators.init``; its input is fixed)."""
        return build_model(self.model_name, self.num_classes, generator=generators.init)


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
