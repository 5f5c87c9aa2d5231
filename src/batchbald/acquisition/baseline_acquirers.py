"""The registry forms of EPIG, PowerEPIG and BatchEPIG (issue 24): targets sampled from the pool.

The EPIG family takes its target inputs as a uniformly random subset of the pool
(``num_target_samples`` of them, drawn from the acquisition generator; the whole pool when it is
smaller), which is the paper's setting when the pool is a sample of the target distribution; the
functions in :mod:`~batchbald.acquisition.epig` also accept an explicit target set. The entries
themselves (with BADGE and coreset) are in :mod:`batchbald.acquisition.registrations`.
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._validation import check_generator, check_log_probs, check_positive_int
from batchbald.acquisition.batch_epig import batch_epig
from batchbald.acquisition.epig import epig
from batchbald.acquisition.params import COLDNESS, Param
from batchbald.acquisition.result import AcquisitionResult
from batchbald.acquisition.selection import top_k
from batchbald.acquisition.stochastic import stochastic_batch

__all__ = [
    "BATCH_EPIG_PARAMS",
    "EPIG_PARAMS",
    "POWER_EPIG_PARAMS",
    "batch_epig_acquirer",
    "epig_acquirer",
    "pool_targets",
    "power_epig_acquirer",
]

# Target inputs per acquisition step for the registry's EPIG rules (a subset of the pool).
DEFAULT_TARGET_SAMPLES = 100
TARGETS = Param(
    "num_target_samples",
    int,
    DEFAULT_TARGET_SAMPLES,
    "target inputs T drawn from the pool per step (all of it when smaller)",
    low=1,
)
EPIG_PARAMS = (TARGETS,)
POWER_EPIG_PARAMS = (TARGETS, COLDNESS)
BATCH_EPIG_PARAMS = (
    TARGETS,
    Param("num_samples", int, 1000, "batch labellings kept exactly, sampled beyond", low=1),
)


def pool_targets(
    log_probs_N_K_C: Any, num_target_samples: int, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked pool log-probabilities and T = min(num_target_samples, N) random pool rows."""
    log_probs = check_log_probs(log_probs_N_K_C)
    num_target_samples = check_positive_int(num_target_samples, "num_target_samples")
    if num_target_samples >= len(log_probs):
        return log_probs, log_probs
    rows = torch.randperm(len(log_probs), generator=check_generator(generator))
    return log_probs, log_probs[rows[:num_target_samples].to(log_probs.device)]


def epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
) -> AcquisitionResult:
    """Top-b EPIG with targets sampled from the pool."""
    pool, target = pool_targets(log_probs_N_K_C, num_target_samples, generator)
    return top_k(epig(pool, target), batch_size)


def power_epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
    coldness: float = 1.0,
) -> AcquisitionResult:
    """PowerEPIG: b points drawn with p ∝ EPIG^coldness (targets sampled from the pool)."""
    pool, target = pool_targets(log_probs_N_K_C, num_target_samples, generator)
    return stochastic_batch(
        epig(pool, target), batch_size, mode="power", coldness=coldness, generator=generator
    )


def batch_epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
    num_samples: int = 1000,
) -> AcquisitionResult:
    """Greedy BatchEPIG (targets sampled from the pool)."""
    pool, target = pool_targets(log_probs_N_K_C, num_target_samples, generator)
    return batch_epig(pool, target, batch_size, num_samples=num_samples, generator=generator)
