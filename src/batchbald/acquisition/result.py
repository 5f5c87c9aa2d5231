"""The value every batch acquisition returns."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["AcquisitionResult"]


@dataclass(frozen=True)
class AcquisitionResult:
    """A selected batch.

    Attributes:
        indices: int64 ``[b]``, pool indices in pick order (unique).
        scores: float64 ``[b]``, the score attached to each pick. For top-k rules the point's
            own score; for BatchBALD-type greedy rules the cumulative joint score of the batch
            after that pick (so ``scores[-1]`` is the batch's estimated joint score).
    """

    indices: torch.Tensor
    scores: torch.Tensor

    def __post_init__(self) -> None:
        """Check that indices and scores are 1-D and of equal length."""
        if self.indices.dim() != 1 or self.scores.shape != self.indices.shape:
            raise ValueError(
                "AcquisitionResult needs 1-D indices and scores of equal length; got "
                f"{tuple(self.indices.shape)} and {tuple(self.scores.shape)}"
            )

    def __len__(self) -> int:
        """The batch size b."""
        return int(self.indices.numel())

    def to_dict(self) -> dict[str, list]:
        """Plain-Python form for JSON (indices as ints, scores as floats)."""
        return {"indices": self.indices.tolist(), "scores": self.scores.tolist()}
