"""The options every greedy batch rule takes, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from batchbald.acquisition._validation import check_sampling_options
from batchbald.acquisition.params import GREEDY_PARAMS, check_declared

__all__ = ["DEFAULT_MAX_MEMORY_BYTES", "DEFAULT_NUM_SAMPLES", "GreedyOptions"]

#: M: label configurations per sampled greedy step (the BatchBALD paper's text uses 10,000).
DEFAULT_NUM_SAMPLES = 10_000
#: The work buffers' byte budget.
DEFAULT_MAX_MEMORY_BYTES = 2**30


@dataclass(frozen=True)
class GreedyOptions:
    """How a greedy batch rule computes its joint entropies.

    Attributes:
        num_samples: M, the number of label configurations: joint entropies are exact while
            C^(n+1) ≤ M at greedy step n, then estimated from M configurations drawn afresh at
            every step.
        generator: randomness for the sampled phase (CPU generator); None uses torch's global.
        dtype: precision of the joint-probability maths (float32 or float64).
        max_memory_bytes: the budget the work buffers are sized from; results do not depend on
            it.
        lazy: rescore only the candidates whose upper bound can still win; the picks are full
            greedy's (``lazy=False``) in both phases.
    """

    num_samples: int = DEFAULT_NUM_SAMPLES
    generator: torch.Generator | None = None
    dtype: torch.dtype = torch.float64
    max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES
    lazy: bool = True

    @classmethod
    def checked(
        cls, num_samples: Any, generator: Any, dtype: Any, max_memory_bytes: Any, lazy: Any
    ) -> GreedyOptions:
        """Options from user arguments, checked against :data:`GREEDY_PARAMS`.

        Errors name the offending argument (``lazy must be a bool; got 'no' (str)``).
        """
        given = {"num_samples": num_samples, "dtype": dtype}
        given.update(max_memory_bytes=max_memory_bytes, lazy=lazy)
        values = check_declared(GREEDY_PARAMS, given, "greedy batch rule")
        checked = check_sampling_options(
            values["num_samples"], generator, values["dtype"], values["max_memory_bytes"]
        )
        return cls(*checked, values["lazy"])

    def sampled(self, num_classes: int, step: int) -> bool:
        """Whether greedy step ``step`` (0-based) estimates its joint entropies by sampling."""
        return num_classes ** (step + 1) > self.num_samples
