"""Training Bayesian CNNs: the paper's regime, evaluation, and self-distillation.

Seeding: build the model with ``build_model(name, C, generator=init_generator)`` and pass a
separate ``generator`` to :func:`train_model` for shuffles and dropout masks.
"""

from batchbald.training.config import EARLY_STOPPING_METRICS, TrainingConfig
from batchbald.training.distill import self_distill
from batchbald.training.evaluate import Evaluation, evaluate, marginal_log_probs
from batchbald.training.train import EpochRecord, TrainingResult, train_model

__all__ = [
    "EARLY_STOPPING_METRICS",
    "EpochRecord",
    "Evaluation",
    "TrainingConfig",
    "TrainingResult",
    "evaluate",
    "marginal_log_probs",
    "self_distill",
    "train_model",
]
