"""Acquisition functions: pure tensor maths on pool log-probabilities ``[N, K, C]``.

Per-point scores return float64 ``[N]``; batch rules return an :class:`AcquisitionResult`.
:func:`get_acquirer` looks rules up by name for the loop and the CLI.
"""

from batchbald.acquisition.batchbald import batchbald
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

from batchbald.acquisition import _core_registrations  # noqa: E402, F401  (fills the registry)

__all__ = [
    "Acquirer",
    "AcquisitionResult",
    "available_acquirers",
    "bald",
    "batchbald",
    "conditional_entropy",
    "entropy",
    "get_acquirer",
    "mean_std",
    "predictive_log_probs",
    "random_batch",
    "register",
    "top_k",
    "variation_ratios",
]
