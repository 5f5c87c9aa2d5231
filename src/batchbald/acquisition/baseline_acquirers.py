"""The registry forms of EPIG, PowerEPIG and BatchEPIG (issue 24).

Each step the EPIG family draws ``num_target_samples`` target inputs uniformly at random (from
the acquisition generator; all of them when there are fewer) out of

* ``target_log_probs_T_K_C`` when given: a set of unlabelled inputs from the distribution the
  model will be used on, scored with the same K posterior samples as the pool (the loop's
  ``data.target_size``; the paper's setting when pool and test distributions differ), or
* the pool itself otherwise: the paper's setting when the pool is a sample of the target
  distribution.

The entries themselves (with BADGE and coreset) are in
:mod:`batchbald.acquisition.registrations`.
"""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._validation import check_generator, check_log_probs, check_positive_int
from batchbald.acquisition.batch_epig import batch_epig
from batchbald.acquisition.epig import check_target, epig
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
    "target inputs T drawn per step from the target set, else the pool (all when fewer)",
    low=1,
)
EPIG_DTYPE = Param(
    "dtype", torch.dtype, "float64", "precision of the joint predictive (float32: faster)"
)
EPIG_PARAMS = (TARGETS, EPIG_DTYPE)
POWER_EPIG_PARAMS = (TARGETS, COLDNESS, EPIG_DTYPE)
BATCH_EPIG_PARAMS = (
    TARGETS,
    Param("num_samples", int, 1000, "batch labellings kept exactly, sampled beyond", low=1),
)


def pool_targets(
    log_probs_N_K_C: Any,
    num_target_samples: int,
    generator: torch.Generator | None,
    target_log_probs_T_K_C: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked pool log-probabilities and min(num_target_samples, T) random target rows.

    The targets are rows of ``target_log_probs_T_K_C`` (checked: same K and C as the pool) or,
    when it is ``None``, of the pool. Drawn with one ``randperm`` of the acquisition generator.
    """
    log_probs = check_log_probs(log_probs_N_K_C)
    num_target_samples = check_positive_int(num_target_samples, "num_target_samples")
    candidates = log_probs
    if target_log_probs_T_K_C is not None:
        candidates = check_target(log_probs, target_log_probs_T_K_C).to(log_probs.device)
    if num_target_samples >= len(candidates):
        return log_probs, candidates
    rows = torch.randperm(len(candidates), generator=check_generator(generator))
    return log_probs, candidates[rows[:num_target_samples].to(log_probs.device)]


def epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
    dtype: Any = "float64",
    target_log_probs_T_K_C: Any = None,
) -> AcquisitionResult:
    """Top-b EPIG; targets from ``target_log_probs_T_K_C`` or, when ``None``, the pool."""
    pool, target = pool_targets(
        log_probs_N_K_C, num_target_samples, generator, target_log_probs_T_K_C
    )
    return top_k(epig(pool, target, dtype=dtype), batch_size)


def power_epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
    coldness: float = 1.0,
    dtype: Any = "float64",
    target_log_probs_T_K_C: Any = None,
) -> AcquisitionResult:
    """PowerEPIG: b points drawn with p ∝ EPIG^coldness (targets as :func:`epig_acquirer`)."""
    pool, target = pool_targets(
        log_probs_N_K_C, num_target_samples, generator, target_log_probs_T_K_C
    )
    scores = epig(pool, target, dtype=dtype)
    return stochastic_batch(
        scores, batch_size, mode="power", coldness=coldness, generator=generator
    )


def batch_epig_acquirer(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    num_target_samples: int = DEFAULT_TARGET_SAMPLES,
    num_samples: int = 1000,
    target_log_probs_T_K_C: Any = None,
) -> AcquisitionResult:
    """Greedy BatchEPIG (targets as :func:`epig_acquirer`)."""
    pool, target = pool_targets(
        log_probs_N_K_C, num_target_samples, generator, target_log_probs_T_K_C
    )
    return batch_epig(pool, target, batch_size, num_samples=num_samples, generator=generator)
