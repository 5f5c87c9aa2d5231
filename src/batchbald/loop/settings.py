"""The settings of one active-learning loop: batch size, MC samples and the stopping rule."""

from __future__ import annotations

from dataclasses import dataclass

from batchbald.errors import InvalidInputError

__all__ = ["LoopSettings"]


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
        """Check every field (named errors, never asserts)."""
        for name in ("batch_size", "k", "label_budget"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be an int ≥ 1; got {value!r}")
        if self.target_accuracy is not None and not 0.0 <= self.target_accuracy <= 1.0:
            raise InvalidInputError(
                f"target_accuracy must lie in [0, 1]; got {self.target_accuracy}"
            )

    def stop_reason(self, *, accuracy: float, num_acquired: int, pool_size: int) -> str | None:
        """Why the loop stops after a model with test ``accuracy``, or None to go on.

        >>> LoopSettings(10, 20, 100, 0.9).stop_reason(accuracy=0.95, num_acquired=0, pool_size=5)
        'target_accuracy'
        """
        if self.target_accuracy is not None and accuracy >= self.target_accuracy:
            return "target_accuracy"
        if num_acquired >= self.label_budget:
            return "label_budget"
        if not pool_size:
            return "pool_exhausted"
        return None
