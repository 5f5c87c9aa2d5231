"""Fixed-length epochs drawn from a small set, and one optimisation pass over them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from batchbald.training.config import TrainingConfig

__all__ = ["PermutationStream", "run_epoch"]


class PermutationStream:
    """Indices ``0..n-1`` as an endless concatenation of independent random permutations.

    Args:
        n: size of the set (≥ 1).
        generator: source of the permutations.
    """

    def __init__(self, n: int, *, generator: torch.Generator | None) -> None:
        self.n = n
        self.generator = generator
        self._buffer = torch.empty(0, dtype=torch.long)

    def take(self, count: int) -> torch.Tensor:
        """The next ``count`` indices (int64, CPU)."""
        parts = [self._buffer]
        available = self._buffer.numel()
        while available < count:
            permutation = torch.randperm(self.n, generator=self.generator)
            parts.append(permutation)
            available += self.n
        stream = torch.cat(parts)
        self._buffer = stream[count:]
        return stream[:count]


@contextmanager
def _weights_layout(model: torch.nn.Module, channels_last: bool) -> Iterator[None]:
    """Hold the 4-D weights channels-last inside the block (if asked), contiguous after it.

    The parameters stay the same objects (``Module.to`` replaces their data), so the
    optimiser's references and state remain valid.
    """
    if not channels_last:
        yield
        return
    model.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        model.to(memory_format=torch.contiguous_format)


def run_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    indices: torch.Tensor,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    config: TrainingConfig,
) -> float:
    """One pass of optimiser steps over ``indices`` in batches; returns the mean loss.

    Args:
        model: put in training mode.
        optimizer: stepped once per batch.
        indices: int64 ``[E]`` example indices, in order.
        batch_loss: maps a batch of indices ``[b]`` to the scalar mean loss of that batch.
        config: ``batch_size`` examples per step (the last batch may be smaller); with
            ``channels_last`` the steps run with the convolution weights in the channels-last
            memory format (faster on CPU), back in the default layout when the epoch returns.
    """
    model.train()
    total, count = 0.0, 0
    with _weights_layout(model, config.channels_last):
        for batch in indices.split(config.batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(batch)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * batch.numel()
            count += batch.numel()
    return total / max(count, 1)
