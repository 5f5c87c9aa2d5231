"""The ``batchbald`` command line: run, report, list, acquire.

``main(argv) -> int`` parses and dispatches to the command modules of
:mod:`batchbald.commands`; library errors print one message and return 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from batchbald.errors import BatchBALDError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``batchbald`` argument parser (subcommands run, report, list, acquire)."""
    from batchbald import __version__
    from batchbald.commands import COMMANDS
    from batchbald.commands.formatting import formatter

    parser = argparse.ArgumentParser(
        prog="batchbald",
        description="Deep Bayesian active learning: BALD, BatchBALD, EvaluationBALD, PowerBALD.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"batchbald {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``batchbald`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BatchBALDError as error:
        print(f"batchbald {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `batchbald list | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
