"""What the loop records at every step (:class:`StepRecord`, JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["StepRecord"]


@dataclass(frozen=True)
class StepRecord:
    """What happened at one step (one trained model).

    Attributes:
        step: 0, 1, ...
        train_size: labelled points (initial + acquired) the model was trained with.
        test_accuracy: accuracy of the model on the test set.
        test_nll: NLL of the model on the test set (nats).
        validation_accuracy: best validation accuracy during training.
        epochs_trained: epochs run before early stopping.
        best_epoch: the epoch whose weights were kept.
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
        """The fields as a plain dict (JSON-ready)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> StepRecord:
        """The record :meth:`to_dict` wrote (unknown keys are ignored)."""
        return cls(
            **{item.name: payload[item.name] for item in fields(cls) if item.name in payload}
        )
