"""Bayesian neural networks with consistent MC dropout, and pool scoring.

Typical use::

    model = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(0))
    ...  # train it (batchbald.training.train_model)
    log_probs_N_K_C = predict_log_probs(model, pool.inputs, 100, generator=mask_generator)
"""

from batchbald.models.base import BayesianModule, mc_dropout_disabled, prepared_masks
from batchbald.models.builders import build_from_spec
from batchbald.models.cnn import EMNISTBayesianCNN, MNISTBayesianCNN
from batchbald.models.dropout import ConsistentMCDropout, ConsistentMCDropout2d
from batchbald.models.ensemble import DeepEnsemble, build_ensemble
from batchbald.models.features import FeatureCache
from batchbald.models.generic import MCDropoutModule, consistent_mc_dropout
from batchbald.models.init import init_weights
from batchbald.models.last_layer import DropoutHead, LaplaceHead, LastLayerModel
from batchbald.models.mlp import EmbeddingsMLP
from batchbald.models.predict import predict_deterministic, predict_embeddings, predict_log_probs
from batchbald.models.registry import available_models, build_model, model_descriptions
from batchbald.models.resnet import ResNet18
from batchbald.models.spec import ModelSpec
from batchbald.models.weights import load_weights, read_weights, write_safetensors

__all__ = [
    "BayesianModule",
    "ConsistentMCDropout",
    "ConsistentMCDropout2d",
    "DeepEnsemble",
    "DropoutHead",
    "EMNISTBayesianCNN",
    "EmbeddingsMLP",
    "FeatureCache",
    "LaplaceHead",
    "LastLayerModel",
    "MCDropoutModule",
    "MNISTBayesianCNN",
    "ModelSpec",
    "ResNet18",
    "available_models",
    "build_ensemble",
    "build_from_spec",
    "build_model",
    "consistent_mc_dropout",
    "init_weights",
    "load_weights",
    "mc_dropout_disabled",
    "model_descriptions",
    "predict_deterministic",
    "predict_embeddings",
    "predict_log_probs",
    "prepared_masks",
    "read_weights",
    "write_safetensors",
]
