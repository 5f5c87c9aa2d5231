"""``batchbald run``: run every method × trial of experiment configs (resumes a partial run)."""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any

from batchbald.commands.formatting import formatter

__all__ = ["add_parser", "run_command"]


def add_parser(commands: Any) -> None:
    """Add ``run`` to the subparsers ``commands``."""
    run = commands.add_parser(
        "run",
        help="run experiments from TOML configs (resumes a partial run)",
        description="Run every method × trial of each CONFIG. Results go to "
        "OUT/<experiment>/<method>/trial_<i>.json, rewritten after every step; running the "
        "same command again resumes unfinished trials and skips finished ones; several runs on "
        "one OUT share the trials (each trial runs once; exit 0 when all are complete).",
        formatter_class=formatter,
    )
    run.set_defaults(handler=run_command)
    run.add_argument("configs", nargs="+", metavar="CONFIG", help="experiment TOML files")
    run.add_argument(
        "--trials", type=int, default=None, help="trials per method (default: the config's)"
    )
    run.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="NAME",
        help="run only these methods (names as in `batchbald report`, e.g. bald_b10; default: all)",
    )
    _add_data_options(run)
    run.add_argument("--out", default="results", help="output folder")
    run.add_argument(
        "--backend", choices=["local", "ray"], default="local", help="where trials run"
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel trials (default: one per CPU core, at most one per trial)",
    )
    run.add_argument("--quiet", action="store_true", help="log lines instead of progress bars")


def _add_data_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--data-dir",
        default=None,
        help="dataset folder (default: $BATCHBALD_DATA_DIR or the user cache)",
    )
    run.add_argument(
        "--no-download", action="store_true", help="fail instead of downloading missing data"
    )


def run_command(args: argparse.Namespace) -> int:
    """Load every config first (so a typo fails fast), then run all their trials."""
    from batchbald.commands.outputs import check_output_folder
    from batchbald.experiments.config import load_config
    from batchbald.experiments.runner import plan_trials, run_trials

    # SIGTERM (kill, a scheduler's stop) unwinds like Ctrl-C, so the runner stops its worker
    # processes instead of leaving them to run on unseen.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    check_output_folder(args.out, "--out")
    configs = [load_config(path) for path in args.configs]
    specs = plan_trials(
        configs,
        out_dir=args.out,
        trials=args.trials,
        methods=args.methods,
        data_dir=args.data_dir,
        download=not args.no_download,
    )
    start = time.perf_counter()
    elsewhere = run_trials(specs, jobs=args.jobs, backend=args.backend, quiet=args.quiet)
    minutes = (time.perf_counter() - start) / 60
    shared = f" ({len(elsewhere)} done by another process)" if elsewhere else ""
    print(f"{len(specs)} trials in {minutes:.1f} min{shared}; results in {args.out}/")
    print(f"summarise with: batchbald report {args.out}")
    return 0


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
