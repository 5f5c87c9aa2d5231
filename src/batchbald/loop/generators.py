"""Randomness of the active-learning loop: one ``torch.Generator`` per consumer, from one seed.

The states of all generators are part of :meth:`batchbald.loop.ActiveLearningLoop.state_dict`,
so a loop restored from a saved state continues exactly as the uninterrupted loop would have.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, fields

import torch

__all__ = ["LoopGenerators", "derive_seed"]


@dataclass
class LoopGenerators:
    """One ``torch.Generator`` per consumer, all derived from a trial seed.

    Attributes:
        split: the initial labelled set and the validation set.
        init: weight initialisation of every fresh model.
        training: minibatch sampling and training-time dropout masks.
        dropout: consistent MC dropout masks for pool scoring and evaluation.
        acquisition: sampling inside acquirers (random, PowerBALD, BatchBALD's samples).
    """

    split: torch.Generator
    init: torch.Generator
    training: torch.Generator
    dropout: torch.Generator
    acquisition: torch.Generator

    @classmethod
    def from_seed(cls, seed: int) -> LoopGenerators:
        """Independent generators: consumer ``name`` is seeded by SHA-256 of ``"{seed}/{name}"``.

        >>> first, second = LoopGenerators.from_seed(0), LoopGenerators.from_seed(1)
        >>> first.init.initial_seed() != second.init.initial_seed()
        True
        """
        return cls(
            **{name: torch.Generator().manual_seed(derive_seed(seed, name)) for name in _names()}
        )

    def state_dict(self) -> dict[str, str]:
        """Each generator's state, base64 text (JSON-ready)."""
        return {
            name: base64.b64encode(bytes(getattr(self, name).get_state().tolist())).decode()
            for name in _names()
        }

    def load_state_dict(self, state: dict[str, str]) -> None:
        """Restore the states written by :meth:`state_dict`."""
        for name in _names():
            raw = base64.b64decode(state[name])
            getattr(self, name).set_state(torch.tensor(list(raw), dtype=torch.uint8))


def _names() -> list[str]:
    return [item.name for item in fields(LoopGenerators)]


def derive_seed(seed: int, name: str) -> int:
    """A 63-bit seed for consumer ``name``, from SHA-256 of ``"{seed}/{name}"`` (stable).

    >>> derive_seed(0, "init") == derive_seed(0, "init") != derive_seed(0, "training")
    True
    """
    return int.from_bytes(hashlib.sha256(f"{seed}/{name}".encode()).digest()[:8], "little") >> 1
