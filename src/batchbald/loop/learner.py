"""What the loop needs from a model family: the :class:`Learner` protocol and :class:`Fitted`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch

if TYPE_CHECKING:
    from batchbald.data import ImageData
    from batchbald.loop.generators import LoopGenerators

__all__ = ["Fitted", "Learner"]


@dataclass(frozen=True)
class Fitted:
    """A trained model and what training reports about it.

    Attributes:
        model: the trained model (whatever the :class:`Learner` uses).
        epochs_trained: epochs run before early stopping.
        best_epoch: the epoch whose weights were kept.
        validation_accuracy: best validation accuracy during training (NaN when unknown).
    """

    model: Any
    epochs_trained: int
    best_epoch: int
    validation_accuracy: float = math.nan


class Learner(Protocol):
    """What the loop needs from a model family and its training recipe.

    ``experiments.learner.BayesianLearner`` implements it with the package's MC-dropout CNNs.
    """

    def fit(self, train: ImageData, validation: ImageData, generators: LoopGenerators) -> Fitted:
        """A fresh model (init from ``generators.init``) trained on ``train``."""
        ...

    def evaluate(
        self, model: Any, data: ImageData, generators: LoopGenerators
    ) -> tuple[float, float]:
        """(accuracy, NLL) of ``model`` on ``data``."""
        ...

    def predict(
        self, model: Any, inputs: torch.Tensor, k: int, generators: LoopGenerators
    ) -> torch.Tensor:
        """Log-probabilities ``[N, K, C]`` with K consistent MC dropout masks."""
        ...

    def distill(
        self, teacher: Any, inputs: torch.Tensor, epochs: int, generators: LoopGenerators
    ) -> Any:
        """A fresh evaluation model self-distilled from ``teacher`` on ``inputs``."""
        ...

    def embed(self, model: Any, inputs: torch.Tensor, generators: LoopGenerators) -> torch.Tensor:
        """Penultimate features ``[N, D]``; only acquirers with ``needs_embeddings`` call it."""
        ...
