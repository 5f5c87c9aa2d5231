"""Help formatting and argument types shared by the ``batchbald`` subcommands."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["formatter", "model_spec_text", "param", "raw_formatter", "seed", "seed_below"]


def param(text: str) -> tuple[str, Any]:
    """``key=value`` with value parsed as a TOML literal (number, bool, string, array).

    >>> param("num_samples=10000"), param("mode=softmax")
    (('num_samples', 10000), ('mode', 'softmax'))
    """
    from batchbald.experiments.config import tomllib

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--param must look like key=value; got {text!r}")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


def seed_below(bound: int):
    """An argparse type: an integer seed in ``[0, bound)``.

    >>> seed_below(2**64)("7")
    7
    """

    def seed_type(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not 0 <= value < bound:
            raise argparse.ArgumentTypeError(
                f"must be an integer in [0, 2**{bound.bit_length() - 1} - 1]; got {text!r}"
            )
        return value

    seed_type.__name__ = "seed"
    return seed_type


#: A ``torch.Generator`` seed: 0 ≤ seed < 2**64.
seed = seed_below(2**64)


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except None/False/[] ones (their help says what unset means)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


class _RawDefaultsFormatter(argparse.RawDescriptionHelpFormatter, _DefaultsFormatter):
    """Keeps the description's line breaks (the LOG_PROBS layout) and shows defaults."""


def formatter(prog: str) -> argparse.HelpFormatter:
    """The help formatter of every parser: defaults shown, 100 columns."""
    return _DefaultsFormatter(prog, max_help_position=32, width=100)


def raw_formatter(prog: str) -> argparse.HelpFormatter:
    """Like :func:`formatter`, keeping the description's own line breaks."""
    return _RawDefaultsFormatter(prog, max_help_position=32, width=100)


def _split_top_level(text: str) -> list[str]:
    """``text`` split at commas outside brackets and quotes.

    >>> _split_top_level('kind=module,skip_weights=["fc", "bn"],options={a = 1}')
    ['kind=module', 'skip_weights=["fc", "bn"]', 'options={a = 1}']
    """
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _model_file(path: str) -> dict[str, Any]:
    import json
    from pathlib import Path

    from batchbald.errors import ConfigError
    from batchbald.experiments.config import tomllib

    try:
        text = Path(path).read_text(encoding="utf-8")
        table = json.loads(text) if path.lower().endswith(".json") else tomllib.loads(text)
    except OSError as error:
        raise ConfigError(f"model: cannot read {path!r}: {error.strerror}") from None
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        kind = Path(path).suffix[1:].upper()
        raise ConfigError(f"model: {path!r} is not valid {kind}: {error}") from None
    table = table.get("model", table) if isinstance(table, dict) else table
    if not isinstance(table, dict):
        raise ConfigError(f"model: {path!r} must hold a table of model keys; got {table!r}")
    return table


def model_spec_text(text: str) -> str | dict[str, Any]:
    """A ``--model`` value: a kind name, a TOML/JSON file, or inline ``key=value,...`` pairs.

    A file holds the keys of a ``batchbald run`` config's ``[model]`` table, at its top level
    or under ``[model]`` (so a run config itself works). Inline values are TOML literals
    (numbers, booleans, arrays) or plain strings.

    >>> model_spec_text("resnet18")
    'resnet18'
    >>> model_spec_text("kind=ensemble,members=3,member=mlp")
    {'kind': 'ensemble', 'members': 3, 'member': 'mlp'}
    """
    from batchbald.errors import ConfigError

    if "=" in text:
        parts = _split_top_level(text)
        bad = [part for part in parts if "=" not in part or not part.partition("=")[0].strip()]
        if bad:
            raise ConfigError(
                f"model: the inline form is key=value pairs separated by commas; got {bad[0]!r}"
            )
        pairs = [param(part) for part in parts]
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ConfigError(f"model: each key once; got {text!r}")
        return dict(pairs)
    if text.lower().endswith((".toml", ".json")):
        return _model_file(text)
    return text
