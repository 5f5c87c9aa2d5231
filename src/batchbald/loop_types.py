"""What the active-learning loop exchanges: its settings, the Learner protocol, step records.

Re-exported by :mod:`batchbald.loop`, which runs the loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import torch

from batchbald.data import ImageData
from batchbald.errors import InvalidInputError
from batchbald.loop_generators import LoopGenerators

__all__ = ["Fitted", "Learner", "LoopSettings", "StepRecord"]


@dataclass(frozen=True)
class Fitted:
    """A trained model and what training reports about it."""

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


@dataclass(frozen=True)
class LoopSettings:
    """Batch size, MC samples and stopping rule of one loop.

    Attributes:
        batch_size: b, points acquired per step (the last step may take fewer).
        k: MC dropout samples to score the pool.
        label_budget: stop once this many points have been acquired (initial set excluded).
        target_accuracy: stop as soon as a model reaches this test accuracy (None: never).
    """

    batch_size: int
    k: int
    label_budget: int
    target_accuracy: float | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "k", "label_budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
        if self.target_accuracy is not None and not 0.0 <= self.target_accuracy <= 1.0:
            raise InvalidInputError(
                f"target_accuracy must lie in [0, 1]; got {self.target_accuracy}"
            )


@dataclass(frozen=True)
class StepRecord:
    """What happened at one step (one trained model).

    Attributes:
        step: 0, 1, ...
        train_size: labelled points (initial + acquired) the model was trained with.
        test_accuracy, test_nll: of the model on the test set.
        validation_accuracy: best validation accuracy during training.
        epochs_trained, best_epoch: from training.
        acquired: ``indices`` (dataset indices), ``scores`` and ``labels`` (oracle answers) of
            the batch acquired after evaluation; empty lists at the last step.
        class_histogram: labelled points per class (oracle answers) the model was trained on.
        timings: seconds per phase: training, distillation, evaluation, scoring, acquisition.
        stop_reason: why the loop stopped after this step ("target_accuracy",
            "label_budget", "pool_exhausted"), else None.
        warnings: diagnostic warnings (:class:`~batchbald.errors.BatchBALDWarning`) raised
            during the step, as "Category: message" strings. They are recorded here instead
            of being printed at every step.
    """

    step: int
    train_size: int
    test_accuracy: float
    test_nll: float
    validation_accuracy: float
    epochs_trained: int
    best_epoch: int
    acquired: dict[str, list]
    class_histogram: list[int]
    timings: dict[str, float] = field(default_factory=dict)
    stop_reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> StepRecord:
        return cls(
            **{item.name: payload[item.name] for item in fields(cls) if item.name in payload}
        )
