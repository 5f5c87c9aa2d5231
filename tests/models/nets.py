"""Small user-style networks for the generic-model tests (importable as factories)."""

from __future__ import annotations

import torch
from torch import nn


class TinyTransformer(nn.Module):
    """Float sequences ``[B, S, F]`` -> logits ``[B, C]`` through an ``nn.TransformerEncoder``."""

    def __init__(self, num_classes: int = 3, features: int = 5, width: int = 16) -> None:
        super().__init__()
        self.inp = nn.Linear(features, width)
        layer = nn.TransformerEncoderLayer(width, 2, 32, dropout=0.2, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.out = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.encoder(self.inp(x)).mean(1))


def head_dropout_net(num_classes: int = 10, p: float = 0.5) -> nn.Sequential:
    """A CNN whose only dropout sits right before the last linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(), nn.Linear(144, 16),
        nn.ReLU(), nn.Dropout(p), nn.Linear(16, num_classes),
    )  # fmt: skip


def make_small_cnn(num_classes: int, width: int = 4) -> nn.Module:
    """A factory for ``kind = "module"`` configs: 28×28 images, no dropout."""
    return nn.Sequential(
        nn.Conv2d(1, width, 5), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
        nn.Linear(width * 36, num_classes),
    )  # fmt: skip


def make_tuple_output(num_classes: int) -> nn.Module:
    """A bad factory: returns ``[B, 2, C]``, not ``[B, C]``."""
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(784, 2 * num_classes),
                         nn.Unflatten(1, (2, num_classes)))  # fmt: skip
