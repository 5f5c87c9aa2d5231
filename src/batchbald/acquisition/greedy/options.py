"""The options every greedy batch rule takes, validated once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypedDict

import torch

from batchbald.acquisition._validation import check_sampling_options
from batchbald.acquisition.params import GREEDY_PARAMS, check_declared
from batchbald.errors import InvalidInputError

__all__ = [
    "DEFAULT_MAX_MEMORY_BYTES",
    "DEFAULT_NUM_SAMPLES",
    "DEFAULT_OPTIONS",
    "GreedyOptions",
    "GreedySettings",
]

#: M: label configurations per sampled greedy step (the BatchBALD paper's text uses 10,000).
DEFAULT_NUM_SAMPLES = 10_000
#: The work buffers' byte budget.
DEFAULT_MAX_MEMORY_BYTES = 2**30


class GreedySettings(TypedDict, total=False):
    """The keyword settings of a greedy batch rule: the fields of :class:`GreedyOptions` bar one.

    ``batchbald(log_probs, b, num_samples=40_000, lazy=False)`` passes them one by one; each
    overrides the same field of the call's ``options``. Declared for the registry and the CLI's
    ``--param`` as :data:`~batchbald.acquisition.params.GREEDY_PARAMS`.
    """

    num_samples: int
    dtype: torch.dtype | str
    max_memory_bytes: int
    lazy: bool


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

    @classmethod
    def of_call(
        cls, rule: str, options: Any, generator: Any, settings: dict[str, Any]
    ) -> GreedyOptions:
        """The checked options of one call of the greedy rule named ``rule``.

        ``options`` (None: :data:`DEFAULT_OPTIONS`), with ``generator`` (unless None) and the
        keyword ``settings`` (:class:`GreedySettings`) overriding its fields.

        Raises:
            TypeError: a setting that is not a :class:`GreedySettings` key (as Python's own
                message for an unexpected keyword argument).
            InvalidInputError: ``options`` is not a :class:`GreedyOptions` (or None).
            ParameterError: a bad setting (the message names it).
        """
        unknown = sorted(set(settings) - set(GreedySettings.__annotations__))
        if unknown:
            raise TypeError(f"{rule}() got an unexpected keyword argument {unknown[0]!r}")
        if options is None:
            options = DEFAULT_OPTIONS
        elif not isinstance(options, cls):
            raise InvalidInputError(
                f"options must be a GreedyOptions; got {type(options).__name__} "
                f"{options!r}. Pass settings such as num_samples as keyword arguments."
            )
        values = {field.name: getattr(options, field.name) for field in fields(cls)}
        values.update(settings)
        if generator is not None:
            values["generator"] = generator
        return cls.checked(**values)

    def sampled(self, num_classes: int, step: int) -> bool:
        """Whether greedy step ``step`` (0-based) estimates its joint entropies by sampling."""
        return num_classes ** (step + 1) > self.num_samples


#: Every field's default: what a greedy rule uses when no ``options`` are given.
DEFAULT_OPTIONS = GreedyOptions()
