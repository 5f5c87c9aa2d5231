"""Acquisition functions: pure tensor maths on pool log-probabilities ``[N, K, C]``.

Per-point scores return float64 ``[N]``; batch rules return an :class:`AcquisitionResult`.
:func:`get_acquirer` looks rules up by name for the loop and the CLI; :func:`check_params`
checks hyperparameters against the rules' declared types and ranges. The greedy rules exported
here (:func:`batchbald`, :func:`batch_eig`, :func:`batch_evaluation_bald`) check their
hyperparameters against the same declarations; they take them as keyword arguments or as one
:class:`GreedyOptions`.
"""

from batchbald.acquisition.badge import badge, gradient_embeddings
from batchbald.acquisition.batch_epig import batch_epig
from batchbald.acquisition.coreset import coreset, k_center_greedy
from batchbald.acquisition.epig import epig
from batchbald.acquisition.evaluation import eig, evaluation_bald
from batchbald.acquisition.greedy.options import GreedyOptions
from batchbald.acquisition.params import Param, ParameterError
from batchbald.acquisition.registrations import (
    batch_eig,
    batch_evaluation_bald,
    batchbald,
    score_acquirer,
)
from batchbald.acquisition.registry import (
    Acquirer,
    available_acquirers,
    check_params,
    get_acquirer,
    register,
)
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.scores import (
    bald,
    conditional_entropy,
    entropy,
    mean_std,
    predictive_log_probs,
    variation_ratios,
)
from batchbald.acquisition.selection import random_batch, top_k
from batchbald.acquisition.stochastic import stochastic_batch, thompson_bald, uniform_top_bald

__all__ = [
    "Acquirer",
    "AcquisitionResult",
    "GreedyOptions",
    "Param",
    "ParameterError",
    "available_acquirers",
    "badge",
    "bald",
    "batch_eig",
    "batch_epig",
    "batch_evaluation_bald",
    "batchbald",
    "check_params",
    "conditional_entropy",
    "coreset",
    "eig",
    "entropy",
    "epig",
    "evaluation_bald",
    "get_acquirer",
    "gradient_embeddings",
    "k_center_greedy",
    "mean_std",
    "predictive_log_probs",
    "random_batch",
    "register",
    "score_acquirer",
    "stochastic_batch",
    "thompson_bald",
    "top_k",
    "uniform_top_bald",
    "variation_ratios",
]
