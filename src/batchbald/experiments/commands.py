"""Handlers of ``batchbald run``, ``report`` and ``list``: argparse namespace in, exit code out."""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path

from batchbald.experiments.config import load_config

__all__ = ["list_command", "report_command", "run_command"]


def run_command(args: argparse.Namespace) -> int:
    """Load every config first (so a typo fails fast), then run all their trials."""
    from batchbald.experiments.runner import plan_trials, run_trials

    # SIGTERM (kill, a scheduler's stop) unwinds like Ctrl-C, so the runner stops its worker
    # processes instead of leaving them to run on unseen.
    signal.signal(signal.SIGTERM, _exit_on_signal)
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
    run_trials(specs, jobs=args.jobs, backend=args.backend, quiet=args.quiet)
    minutes = (time.perf_counter() - start) / 60
    print(f"{len(specs)} trials in {minutes:.1f} min; results in {args.out}/")
    print(f"summarise with: batchbald report {args.out}")
    return 0


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def report_command(args: argparse.Namespace) -> int:
    """Print the summary table; optionally write Markdown, CSV, per-step CSV and plots."""
    from batchbald.experiments.report import format_table, summarise
    from batchbald.experiments.results import load_trials, write_steps_csv

    trials = load_trials(args.results, include_partial=not args.complete_only)
    summaries = summarise(trials, thresholds=args.thresholds, sizes=args.sizes)
    print(format_table(summaries, args.format), end="")
    written: list[Path] = []
    for style, target in (("markdown", args.markdown), ("csv", args.csv)):
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(format_table(summaries, style), encoding="utf-8")
            written.append(Path(target))
    if args.steps_csv:
        Path(args.steps_csv).parent.mkdir(parents=True, exist_ok=True)
        write_steps_csv(trials, args.steps_csv)
        written.append(Path(args.steps_csv))
    if args.plot or args.plots_dir:
        from batchbald.experiments import plots

        if args.plot:
            written += plots.plot_accuracy(trials, args.plot)
        if args.plots_dir:
            written += plots.write_all_plots(
                trials, args.plots_dir, time_reference=args.time_reference
            )
    for path in written:
        print(f"wrote {path}")
    return 0


def list_command(args: argparse.Namespace) -> int:
    """Acquirers (with descriptions and parameters), datasets, models and configs."""
    from batchbald.acquisition import available_acquirers, get_acquirer
    from batchbald.experiments.components import available_dataset_names
    from batchbald.models import available_models

    print("acquirers:")
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        extra = " [needs an evaluation model]" if acquirer.needs_eval_model else ""
        print(f"  {name:24s} {acquirer.description}{extra}")
        if acquirer.declared:
            print(f"  {'':24s} params: {acquirer.describe_params()}")
    print("datasets:\n  " + ", ".join(available_dataset_names()))
    print("models:\n  " + ", ".join(available_models()))
    configs = sorted(Path(args.configs_dir).glob("*.toml"))
    print(f"configs ({args.configs_dir}/):" if configs else f"configs: none in {args.configs_dir}/")
    for path in configs:
        try:
            config = load_config(path)
            summary = f"{config.description or config.name} ({len(config.methods)} methods)"
        except Exception as error:
            summary = f"invalid: {error}"
        print(f"  {path!s:40s} {summary}")
    return 0
