"""The ``batchbald`` subcommands, one module each: its parser and its handler.

Every command module has ``add_parser(subparsers)``, which adds the subcommand and binds its
handler (``handler(args: argparse.Namespace) -> int``, the exit status) as the parser's
``handler`` default. :mod:`batchbald.cli` builds the parser from :data:`COMMANDS` and dispatches.
Handlers import what they need when they run, so ``batchbald --help`` stays fast.
"""

from batchbald.campaign import cli as campaign
from batchbald.commands import acquire, listing, report, run, score

__all__ = ["COMMANDS"]

#: The command modules in the order ``batchbald --help`` lists them.
COMMANDS = (run, report, listing, acquire, score, campaign)
