"""Help formatting and argument types shared by the ``batchbald`` subcommands."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["formatter", "param", "raw_formatter", "seed", "seed_below"]


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
