"""Acquisition functions: pure tensor maths on pool log-probabilities ``[N, K, C]``.

Per-point scores return float64 ``[N]``; batch rules return an :class:`AcquisitionResult`.
:func:`get_acquirer` looks rules up by name for the loop and the CLI.
"""

from batchbald.acquisition import (
    _core_registrations,  # noqa: F401  (fills the registry)
    _report_registrations,  # noqa: F401  (report's acquirers)
)
from batchbald.acquisition.batchbald import batchbald
from batchbald.acquisition.evaluation import (
    batch_eig,
    batch_evaluation_bald,
    eig,
    evaluation_bald,
)
from batchbald.acquisition.registry import Acquirer, available_acquirers, get_acquirer, register
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
from batchbald.acquisition.stochastic import (
    stochastic_acquirer,
    stochastic_batch,
    thompson_bald,
    uniform_top_bald,
)

__all__ = [
    "Acquirer",
    "AcquisitionResult",
    "available_acquirers",
    "bald",
    "batch_eig",
    "batch_evaluation_bald",
    "batchbald",
    "conditional_entropy",
    "eig",
    "entropy",
    "evaluation_bald",
    "get_acquirer",
    "mean_std",
    "predictive_log_probs",
    "random_batch",
    "register",
    "stochastic_acquirer",
    "stochastic_batch",
    "thompson_bald",
    "top_k",
    "uniform_top_bald",
    "variation_ratios",
]
