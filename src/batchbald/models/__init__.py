"""Bayesian neural networks with consistent MC dropout, and pool scoring.

Typical use::

    model = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(0))
    ...  # train it (batchbald.training.train_model)
    log_probs_N_K_C = predict_log_probs(model, pool.inputs, 100, generator=mask_generator)
"""

from batchbald.models.base import BayesianModule, mc_dropout_disabled, prepared_masks
from batchbald.models.cnn import EMNISTBayesianCNN, MNISTBayesianCNN
from batchbald.models.dropout import ConsistentMCDropout, ConsistentMCDropout2d
from batchbald.models.init import init_weights
from batchbald.models.predict import predict_deterministic, predict_log_probs
from batchbald.models.registry import available_models, build_model

__all__ = [
    "BayesianModule",
    "ConsistentMCDropout",
    "ConsistentMCDropout2d",
    "EMNISTBayesianCNN",
    "MNISTBayesianCNN",
    "available_models",
    "build_model",
    "init_weights",
    "mc_dropout_disabled",
    "predict_deterministic",
    "predict_log_probs",
    "prepared_masks",
]
