"""``batchbald report``: summary tables and plots of results."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from batchbald.commands.formatting import formatter

__all__ = ["add_parser", "report_command"]


def add_parser(commands: Any) -> None:
    """Add ``report`` to the subparsers ``commands``."""
    report = commands.add_parser(
        "report",
        help="summary tables and plots of results",
        description="Table-1 metric (N_first - b quartiles, '>budget' when never reached), "
        "accuracy at chosen sizes and time to reach each threshold.",
        formatter_class=formatter,
    )
    report.set_defaults(handler=report_command)
    report.add_argument(
        "results", nargs="+", metavar="RESULTS", help="results folders or trial files"
    )
    report.add_argument(
        "--thresholds", type=float, nargs="+", default=[0.9, 0.95], help="test-accuracy thresholds"
    )
    report.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[100, 200, 300],
        help="training-set sizes for accuracy columns",
    )
    report.add_argument(
        "--format", choices=["table", "markdown", "csv"], default="table", help="printed format"
    )
    _add_outputs(report)
    report.add_argument("--complete-only", action="store_true", help="ignore unfinished trials")


def _add_outputs(report: argparse.ArgumentParser) -> None:
    # Every output is replaced atomically: tables and plots are views of the results, so
    # writing them again is what the command is for (unlike `acquire --out`, which refuses).
    report.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    report.add_argument("--csv", default=None, help="also write the table as CSV here")
    report.add_argument(
        "--steps-csv", default=None, help="write every step of every trial as CSV here"
    )
    report.add_argument("--plot", default=None, help="write the accuracy plot here (PNG and SVG)")
    report.add_argument("--plots-dir", default=None, help="write all four plots into this folder")
    report.add_argument(
        "--time-reference",
        default=None,
        metavar="METHOD",
        help="method whose total time is 1.0 in the relative-time plot (default: the first)",
    )


def report_command(args: argparse.Namespace) -> int:
    """Print the summary table; optionally write Markdown, CSV, per-step CSV and plots."""
    from batchbald.atomic import atomic_write_text
    from batchbald.experiments.report import format_table, summarise
    from batchbald.experiments.results import load_trials, write_steps_csv

    _check_outputs(args)
    trials = load_trials(args.results, include_partial=not args.complete_only)
    summaries = summarise(trials, thresholds=args.thresholds, sizes=args.sizes)
    print(format_table(summaries, args.format), end="")
    written: list[Path] = []
    for style, target in (("markdown", args.markdown), ("csv", args.csv)):
        if target:
            atomic_write_text(target, format_table(summaries, style))
            written.append(Path(target))
    if args.steps_csv:
        write_steps_csv(trials, args.steps_csv)
        written.append(Path(args.steps_csv))
    written += _plots(trials, args)
    for path in written:
        print(f"wrote {path}")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before any work if an output cannot be written (they are replaced atomically)."""
    from batchbald.commands.outputs import check_output_file, check_output_folder

    for option in ("markdown", "csv", "steps_csv"):
        if getattr(args, option):
            check_output_file(getattr(args, option), "--" + option.replace("_", "-"))
    if args.plot:
        for suffix in (".png", ".svg"):
            check_output_file(Path(args.plot).with_suffix(suffix), "--plot")
    if args.plots_dir:
        check_output_folder(args.plots_dir, "--plots-dir")


def _plots(trials: list, args: argparse.Namespace) -> list[Path]:
    if not (args.plot or args.plots_dir):
        return []
    from batchbald.experiments import plots

    written: list[Path] = []
    if args.plot:
        written += plots.plot_accuracy(trials, args.plot)
    if args.plots_dir:
        written += plots.write_all_plots(trials, args.plots_dir, time_reference=args.time_reference)
    return written
