"""Greedy BatchBALD (placeholder while the real implementation lands)."""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition.result import AcquisitionResult

DEFAULT_MAX_MEMORY_BYTES = 2**30


def batchbald(
    log_probs_N_K_C: Any,
    batch_size: int,
    *,
    num_samples: int = 10_000,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
) -> AcquisitionResult:
    raise NotImplementedError
