"""An MLP with consistent MC dropout over precomputed feature vectors (embeddings as inputs).

A team with a foundation model saves its features (``.npy`` float32 ``[N, D]``,
:func:`batchbald.data.load_embeddings`) and actively learns a small head on them: the cheapest
real-world path. Layers: ``(Linear -> ReLU -> dropout) × depth -> Linear``; the first linear layer
and ReLU run once per input (the deterministic prefix), the rest K times.
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from batchbald.errors import ModelError
from batchbald.models.base import BayesianModule
from batchbald.models.dropout import ConsistentMCDropout
from batchbald.models.init import init_weights

__all__ = ["EmbeddingsMLP"]


class EmbeddingsMLP(BayesianModule):
    """``D -> hidden (× depth) -> C`` with ReLU and consistent dropout after every hidden layer.

    Args:
        in_features: D.
        num_classes: C.
        hidden: width of the hidden layers.
        depth: number of hidden layers (≥ 1).
        p: dropout probability.
        generator: weight-initialisation source (:func:`~batchbald.models.init.init_weights`).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        hidden: int = 256,
        depth: int = 1,
        p: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden), ("depth", depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ModelError(f"EmbeddingsMLP {name} must be an int ≥ 1; got {value!r}")
        widths = [in_features] + [hidden] * depth
        self.hidden_layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.dropouts = nn.ModuleList(ConsistentMCDropout(p) for _ in range(depth))
        self.out = nn.Linear(hidden, num_classes)
        if generator is not None:
            init_weights(self, generator)

    def deterministic(self, inputs: torch.Tensor) -> torch.Tensor:
        """First hidden layer and ReLU, once per input: ``[B, D] -> [B, hidden]``."""
        if inputs.dim() != 2 or inputs.shape[1] != self.hidden_layers[0].in_features:
            raise ModelError(
                f"EmbeddingsMLP expects inputs [B, {self.hidden_layers[0].in_features}]; "
                f"got {tuple(inputs.shape)}"
            )
        return F.relu(self.hidden_layers[0](inputs))

    def _hidden(self, hidden: torch.Tensor, k: int, generator) -> torch.Tensor:
        hidden = self.dropouts[0](hidden, k, generator=generator)
        for layer, dropout in zip(self.hidden_layers[1:], self.dropouts[1:], strict=True):
            hidden = dropout(F.relu(layer(hidden)), k, generator=generator)
        return hidden

    def stochastic(self, hidden: torch.Tensor, k: int, *, generator=None) -> torch.Tensor:
        """Dropout and the remaining layers on ``[B·K, hidden]``: log-probabilities ``[B·K, C]``."""
        return F.log_softmax(self.out(self._hidden(hidden, k, generator)), dim=-1)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """The last hidden layer ``[B, hidden]`` with dropout off."""
        hidden = F.relu(self.hidden_layers[0](inputs))
        for layer in self.hidden_layers[1:]:
            hidden = F.relu(layer(hidden))
        return hidden
