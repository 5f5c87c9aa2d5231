"""batchbald: deep Bayesian active learning (BALD, BatchBALD, EvaluationBALD, PowerBALD)."""

from batchbald.acquisition import (
    AcquisitionResult,
    available_acquirers,
    bald,
    batchbald,
    get_acquirer,
)

__version__ = "0.1.0"

__all__ = [
    "AcquisitionResult",
    "__version__",
    "available_acquirers",
    "bald",
    "batchbald",
    "get_acquirer",
]
