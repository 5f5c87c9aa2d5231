"""Deterministic and uniformly random batch selection from scores."""

from __future__ import annotations

from typing import Any

import torch

from batchbald.acquisition._validation import (
    check_batch_size,
    check_generator,
    check_positive_int,
    check_scores,
)
from batchbald.acquisition.numerics import stable_top_k
from batchbald.acquisition.result import AcquisitionResult

__all__ = ["random_batch", "top_k"]


def top_k(scores_N: Any, batch_size: int) -> AcquisitionResult:
    """The ``batch_size`` highest scores, best first; ties go to the lower index.

    Args:
        scores_N: ``[N]`` finite scores (tensor or numpy array).
        batch_size: b, with 1 ≤ b ≤ N.

    Returns:
        :class:`AcquisitionResult` with the b indices and their scores (float64).

    >>> top_k(torch.tensor([0.1, 0.5, 0.3]), 2).indices.tolist()
    [1, 2]
    """
    scores = check_scores(scores_N).double()
    batch_size = check_batch_size(batch_size, scores.numel())
    indices = stable_top_k(scores, batch_size)
    return AcquisitionResult(indices=indices, scores=scores[indices])


def random_batch(
    pool_size: int, batch_size: int, *, generator: torch.Generator | None = None
) -> AcquisitionResult:
    """B pool indices uniformly at random without replacement; scores are 0.

    Args:
        pool_size: N ≥ 1.
        batch_size: 1 ≤ b ≤ N.
        generator: the source of randomness (CPU ``torch.Generator``); None uses torch's global.

    >>> random_batch(10, 3, generator=torch.Generator().manual_seed(0)).indices.numel()
    3
    """
    pool_size = check_positive_int(pool_size, "pool_size")
    batch_size = check_batch_size(batch_size, pool_size)
    generator = check_generator(generator)
    indices = torch.randperm(pool_size, generator=generator)[:batch_size]
    return AcquisitionResult(indices=indices, scores=torch.zeros(batch_size, dtype=torch.float64))
