"""Validation helpers for configuration dataclasses, and the TOML-table → dataclass builder.

Field checks raise :class:`FieldError` naming only the field; :func:`build` knows where the
table sits in the file and re-raises a :class:`~batchbald.errors.ConfigError` with the full path
(``configs/x.toml: methods[1].batch_size must be an int ≥ 1; got 0``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from batchbald.errors import ConfigError

T = TypeVar("T")


class FieldError(ConfigError):
    """A bad value in one field of a config dataclass (``field`` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field} {message}")
        self.field = field
        self.detail = message


def check_int(value: Any, field: str, *, minimum: int | None = None) -> int:
    """An int (not a bool), optionally ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"must be an int; got {value!r}")
    if minimum is not None and value < minimum:
        raise FieldError(field, f"must be an int ≥ {minimum}; got {value}")
    return value


def check_float(
    value: Any, field: str, *, low: float | None = None, high: float | None = None
) -> float:
    """A finite number in ``[low, high]`` (ints are accepted and converted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FieldError(field, f"must be a finite number; got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise FieldError(field, f"must lie in [{low}, {high}]; got {value}")
    return float(value)


def check_str(value: Any, field: str, *, choices: Iterable[str] | None = None) -> str:
    """A non-empty string, optionally one of ``choices``."""
    if not isinstance(value, str) or not value:
        raise FieldError(field, f"must be a non-empty string; got {value!r}")
    if choices is not None and value not in (choices := tuple(choices)):
        raise FieldError(field, f"must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_name(value: Any, field: str) -> str:
    """A string usable as a folder name: letters, digits, ``_``, ``-`` and ``.``."""
    value = check_str(value, field)
    if not all(ch.isalnum() or ch in "_-." for ch in value) or value.startswith("."):
        raise FieldError(
            field,
            f"must use only letters, digits, '_', '-' and '.' (it names a folder); got {value!r}",
        )
    return value


def join_path(path: str, key: str | int) -> str:
    """``path`` + ``.key`` (or ``[i]`` for list items)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def build(
    cls: type[T],
    table: Any,
    path: str,
    nested: Mapping[str, Callable[[Any, str], Any]] | None = None,
) -> T:
    """Build dataclass ``cls`` from a TOML table; unknown keys and bad values are ConfigErrors.

    Args:
        cls: a dataclass whose ``__post_init__`` raises :class:`FieldError`.
        table: the parsed TOML table.
        path: where the table sits ("" for the top level, "data", "methods[2]").
        nested: field name → converter ``(value, path) -> value`` for sub-tables and lists.
    """
    where = path or "the top level"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table; got {type(table).__name__}")
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ConfigError(
            f"{join_path(path, unknown[0])}: unknown key; valid keys at {where}: {', '.join(names)}"
        )
    required = [
        field.name
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in table]
    if missing:
        raise ConfigError(f"{join_path(path, missing[0])}: missing; it is required at {where}")
    kwargs = {}
    for key, value in table.items():
        convert = (nested or {}).get(key)
        kwargs[key] = convert(value, join_path(path, key)) if convert else value
    try:
        return cls(**kwargs)
    except FieldError as error:
        raise ConfigError(f"{join_path(path, error.field)} {error.detail}") from None
