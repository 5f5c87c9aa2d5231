"""Typed declarations of acquirer hyperparameters, and the one check every caller uses.

Each registry entry declares its keyword hyperparameters as :class:`Param` objects: the type,
the default, the allowed range or choices and a one-line doc. :func:`check_declared` checks a
mapping of values against them; the registry (:func:`batchbald.acquisition.check_params`), the
CLI's ``--param`` and the experiment configs all go through it, so a value is accepted or
rejected with the same message everywhere:

>>> lazy = Param("lazy", bool, True, "rescore only candidates whose bound can still win")
>>> lazy.check("no")
Traceback (most recent call last):
    ...
batchbald.acquisition.params.ParameterError: lazy must be a bool; got 'no' (str)

Types: ``int`` rejects bools (``True`` is an ``int`` in Python) and floats; ``float`` accepts
ints and returns a float; ``str`` with ``choices``; ``torch.dtype`` accepts ``torch.float32`` /
``torch.float64`` or their names ``"float32"`` / ``"float64"`` (as TOML and the CLI write them)
and returns the name, so checked values stay JSON-friendly.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from batchbald.errors import InvalidInputError

__all__ = [
    "COLDNESS",
    "DTYPE_NAMES",
    "GREEDY_PARAMS",
    "Param",
    "ParameterError",
    "check_declared",
]

# Joint-probability precisions a greedy rule accepts, by the name a config writes.
DTYPE_NAMES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}

_TYPE_PHRASES = {bool: "a bool", int: "an int", float: "a real number", str: "a string"}


class ParameterError(InvalidInputError):
    """A hyperparameter value (or name) an acquirer does not accept.

    Attributes:
        parameter: the hyperparameter's name.
        detail: the message without the name ("must be a bool; got 'no' (str)").
    """

    def __init__(self, parameter: str, detail: str, message: str | None = None) -> None:
        """Store the parameter and detail; the message defaults to ``"<parameter> <detail>"``."""
        super().__init__(message or f"{parameter} {detail}")
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True)
class Param:
    """One declared hyperparameter of an acquirer.

    Attributes:
        name: the keyword argument's name.
        type: ``bool``, ``int``, ``float``, ``str`` or ``torch.dtype``.
        default: the value used when none is given (it passes :meth:`check`).
        doc: one line for ``batchbald list``.
        low: smallest allowed value (inclusive), for ``int`` and ``float``.
        high: largest allowed value (inclusive), for ``int`` and ``float``.
        choices: the allowed values, for ``str``.
        allow_inf: a ``float`` may be ``math.inf`` (NaN is always rejected).
    """

    name: str
    type: type
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    allow_inf: bool = False

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to the declared type, or raise :class:`ParameterError`."""
        if self.type is torch.dtype:
            return self._check_dtype(value)
        if self.type is bool:
            if not isinstance(value, bool):
                raise self._wrong_type(value)
            return value
        if self.type is str:
            if not isinstance(value, str):
                raise self._wrong_type(value)
            if self.choices is not None and value not in self.choices:
                raise ParameterError(self.name, f"must be {self._choices_phrase()}; got {value!r}")
            return value
        return self._check_number(value)

    def _check_number(self, value: Any) -> int | float:
        wanted = numbers.Integral if self.type is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise self._wrong_type(value)
        number = int(value) if self.type is int else float(value)
        if math.isnan(number) or (math.isinf(number) and not self.allow_inf):
            raise ParameterError(self.name, f"must be {self.describe()}; got {value!r}")
        too_low = self.low is not None and number < self.low
        if too_low or (self.high is not None and number > self.high):
            raise ParameterError(self.name, f"must be {self.describe()}; got {value!r}")
        return number

    def _check_dtype(self, value: Any) -> str:
        for name, dtype in DTYPE_NAMES.items():
            if value is dtype or (isinstance(value, str) and value == name):
                return name
        raise ParameterError(
            self.name,
            f"must be {self.describe()} (or torch.float32 / torch.float64); "
            f"got {value!r} ({type(value).__name__})",
        )

    def _wrong_type(self, value: Any) -> ParameterError:
        return ParameterError(
            self.name,
            f"must be {_TYPE_PHRASES[self.type]}; got {value!r} ({type(value).__name__})",
        )

    def _choices_phrase(self) -> str:
        return "one of " + ", ".join(repr(choice) for choice in self.choices or ())

    def describe(self) -> str:
        """The type and range in words, e.g. "an int ≥ 1" or "a real number ≥ 0 or inf"."""
        if self.type is torch.dtype:
            return '"float32" or "float64"'
        if self.type is str and self.choices is not None:
            return self._choices_phrase()
        phrase = _TYPE_PHRASES[self.type]
        if self.low is not None and self.high is not None:
            phrase += f" in [{self.low:g}, {self.high:g}]"
        elif self.low is not None:
            phrase += f" ≥ {self.low:g}"
        elif self.high is not None:
            phrase += f" ≤ {self.high:g}"
        return phrase + (" or inf" if self.allow_inf else "")


def check_declared(
    declared: Sequence[Param], params: Mapping[str, Any], owner: str
) -> dict[str, Any]:
    """Check ``params`` against the declarations; return them converted (given keys only).

    Args:
        declared: the acquirer's declarations.
        params: hyperparameter name → value.
        owner: the acquirer's name, for the message on an unknown name.

    Raises:
        ParameterError: an undeclared name (the first, in sorted order) or a bad value.
    """
    by_name = {param.name: param for param in declared}
    unknown = sorted(set(params) - set(by_name))
    if unknown:
        valid = ", ".join(by_name) or "none"
        raise ParameterError(
            unknown[0],
            f"is not a parameter of acquirer {owner!r}; valid parameters: {valid}",
            f"acquirer {owner!r} has no parameter {unknown[0]!r}; valid parameters: {valid}",
        )
    return {name: by_name[name].check(value) for name, value in params.items()}


#: The options every greedy batch rule takes (``batchbald``, ``batch_eig``,
#: ``batch_evaluation_bald``); the registry suite checks them against the functions' signatures.
GREEDY_PARAMS = (
    Param(
        "num_samples",
        int,
        10_000,
        "label configurations M sampled per step once the exact joint no longer fits",
        low=1,
    ),
    Param("dtype", torch.dtype, "float64", "precision of the joint probabilities"),
    Param("max_memory_bytes", int, 2**30, "budget the work buffers are sized from", low=1),
    Param("lazy", bool, True, "rescore only candidates whose bound can still win"),
)

#: The exponent of stochastic acquisition (α in the report, β in the TMLR paper).
COLDNESS = Param(
    "coldness",
    float,
    1.0,
    "sampling exponent α = β: 0 gives a uniform batch, inf gives the top-b",
    low=0.0,
    allow_inf=True,
)
