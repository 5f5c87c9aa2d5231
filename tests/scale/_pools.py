"""Random pools and stores for the scale tests."""

from __future__ import annotations

from pathlib import Path

import torch

from batchbald.scale import StoreWriter, open_store


def random_pool(n: int, k: int, c: int, seed: int, *, spread: float = 1.0) -> torch.Tensor:
    """float32 ``[n, K, C]`` log-probabilities with a heavy-tailed spread of disagreement."""
    generator = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, 1, c, generator=generator) * 3
    scale = 0.05 + spread * torch.rand(n, 1, 1, generator=generator) ** 6
    return torch.log_softmax(mu + scale * torch.randn(n, k, c, generator=generator), dim=-1)


def write_store(path: Path, log_probs: torch.Tensor, shard_rows: int):
    """A sharded store holding ``log_probs``, opened for reading."""
    n, k, c = log_probs.shape
    writer = StoreWriter(path, num_rows=n, num_samples=k, num_classes=c, shard_rows=shard_rows)
    for index in writer.pending:
        writer.write(index, log_probs[writer.rows_of(index)])
    return open_store(path)
