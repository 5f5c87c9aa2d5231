"""Fixtures shared by the training tests: one intra-op thread, a tiny MC-dropout MLP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from batchbald.models import BayesianModule, ConsistentMCDropout, init_weights


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny tensors: one intra-op thread avoids thread-sync stalls on a shared, loaded CPU."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


class TinyMLP(BayesianModule):
    """4 inputs -> linear(32) -> consistent MC dropout -> ReLU -> linear(3) -> log-softmax."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 32)
        self.drop = ConsistentMCDropout(0.5)
        self.out = nn.Linear(32, 3)
        init_weights(self, generator)

    def deterministic(self, inputs):
        return self.hidden(inputs)

    def stochastic(self, hidden, k, *, generator):
        return F.log_softmax(self.out(F.relu(self.drop(hidden, k, generator=generator))), dim=1)


@pytest.fixture
def tiny_mlp() -> Callable[[int], TinyMLP]:
    """``tiny_mlp(seed)``: a fresh :class:`TinyMLP` initialised from ``seed``."""
    return lambda seed: TinyMLP(torch.Generator().manual_seed(seed))
