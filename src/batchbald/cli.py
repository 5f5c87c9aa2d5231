"""The ``batchbald`` command line: run, report, list, acquire.

``main(argv) -> int`` parses and dispatches to the command modules of
:mod:`batchbald.commands`. A user's mistake never shows a traceback: a usage error, a library
error (:class:`~batchbald.errors.BatchBALDError`) or an error of the operating system (a path
that is missing or a folder, no permission, a full disk) prints one line
``batchbald COMMAND: error: ...`` on stderr and exits with 2. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from batchbald.errors import BatchBALDError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``batchbald`` argument parser (subcommands run, report, list, acquire)."""
    from batchbald import __version__
    from batchbald.commands import COMMANDS
    from batchbald.commands.formatting import formatter

    parser = _Parser(
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
        return _fail(args.command, str(error))
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `batchbald list | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as error:  # the system refused a user's path: one line, not a traceback
        return _fail(args.command, _system_message(error))


def _fail(command: str, message: str) -> int:
    print(f"batchbald {command}: error: {message}", file=sys.stderr)
    return 2


def _system_message(error: OSError) -> str:
    """``strerror: 'file'`` without the ``[Errno N]`` prefix (or the error's own text)."""
    if not error.strerror:
        return str(error) or type(error).__name__
    names = [name for name in (error.filename, error.filename2) if name is not None]
    return error.strerror + "".join(f": {str(name)!r}" for name in names)


if __name__ == "__main__":
    sys.exit(main())
