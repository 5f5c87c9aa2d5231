"""The ``batchbald`` command line: run, report, list, acquire.

``main(argv) -> int`` parses and delegates; library errors print one message and return 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from batchbald.errors import BatchBALDError, DataError, InvalidInputError

__all__ = ["build_parser", "main"]

LOG_PROBS_LAYOUT = """\
LOG_PROBS layout: a .npy file (numpy.save) or a .pt file (torch.save of a tensor) holding
float32/float64 log-probabilities of shape [N, K, C]: N pool points, K posterior samples (e.g.
MC dropout masks, ensemble members; the same K masks for every point), C classes; each row
log_probs[n, k, :] is a log_softmax output (logsumexp over C = 0). Picks are pool indices,
i.e. row numbers n of that array."""


def _param(text: str) -> tuple[str, Any]:
    """``key=value`` with value parsed as a TOML literal (number, bool, string, array)."""
    from batchbald.experiments.config import tomllib

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--param must look like key=value; got {text!r}")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except None/False/[] ones (their help says what unset means)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


class _RawDefaultsFormatter(argparse.RawDescriptionHelpFormatter, _DefaultsFormatter):
    """Keeps the description's line breaks (the LOG_PROBS layout) and shows defaults."""


def _formatter(prog: str) -> argparse.HelpFormatter:
    return _DefaultsFormatter(prog, max_help_position=32, width=100)


def _raw_formatter(prog: str) -> argparse.HelpFormatter:
    return _RawDefaultsFormatter(prog, max_help_position=32, width=100)


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run experiments from TOML configs (resumes a partial run)",
        description="Run every method × trial of each CONFIG. Results go to "
        "OUT/<experiment>/<method>/trial_<i>.json, rewritten after every step; running the "
        "same command again resumes unfinished trials and skips finished ones.",
        formatter_class=_formatter,
    )
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
    run.add_argument(
        "--data-dir",
        default=None,
        help="dataset folder (default: $BATCHBALD_DATA_DIR or the user cache)",
    )
    run.add_argument(
        "--no-download", action="store_true", help="fail instead of downloading missing data"
    )
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


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="summary tables and plots of results",
        description="Table-1 metric (N_first - b quartiles, '>budget' when never reached), "
        "accuracy at chosen sizes and time to reach each threshold.",
        formatter_class=_formatter,
    )
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
    report.add_argument("--complete-only", action="store_true", help="ignore unfinished trials")


def _add_acquire(commands: Any) -> None:
    from batchbald.acquisition import available_acquirers, get_acquirer

    methods = "\n".join(
        f"  {name:24s} {get_acquirer(name).description}"
        + (" [needs --eval-log-probs]" if get_acquirer(name).needs_eval_model else "")
        for name in available_acquirers()
    )
    acquire = commands.add_parser(
        "acquire",
        help="pick a batch from saved log-probabilities (.npy / .pt)",
        description="Select a batch of pool points with any registered acquisition function\n"
        "from log-probabilities saved by any framework.\n\n" + LOG_PROBS_LAYOUT,
        epilog="methods:\n" + methods,
        formatter_class=_raw_formatter,
    )
    acquire.add_argument(
        "log_probs", metavar="LOG_PROBS", help="[N, K, C] log-probabilities (.npy or .pt)"
    )
    acquire.add_argument(
        "--method",
        required=True,
        choices=available_acquirers(),
        metavar="NAME",
        help="acquisition function (listed below)",
    )
    acquire.add_argument("--batch-size", type=int, required=True, help="points to pick (b)")
    acquire.add_argument("--seed", type=int, default=0, help="seed of the acquisition generator")
    acquire.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="acquirer hyperparameter, e.g. num_samples=10000 or coldness=1.0 (repeatable)",
    )
    acquire.add_argument(
        "--eval-log-probs",
        default=None,
        metavar="FILE",
        help="evaluation model's [N, K, C] log-probabilities, for methods that need them",
    )
    acquire.add_argument("--out", default=None, help="write the picks as JSON here")


def load_log_probs(path: str | Path, name: str = "LOG_PROBS") -> Any:
    """Read a ``[N, K, C]`` array from ``.npy`` (numpy.save) or ``.pt`` (torch.save) as a tensor.

    Raises:
        DataError: the file is missing or unreadable.
        InvalidInputError: another suffix, or a ``.pt`` that does not hold one tensor.
    """
    import numpy as np
    import torch

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".pt", ".pth"):
        raise InvalidInputError(f"{name} must be a .npy or .pt file; got {path.name!r}")
    if not path.is_file():
        raise DataError(f"{name} file {str(path)!r} does not exist")
    try:
        if suffix == ".npy":
            return torch.from_numpy(np.load(path, allow_pickle=False))
        value = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, EOFError) as error:
        raise DataError(f"cannot read {name} file {str(path)!r}: {error}") from None
    if not isinstance(value, torch.Tensor):
        raise InvalidInputError(
            f"{name} file {str(path)!r} must hold a single tensor (torch.save(log_probs, path)); "
            f"got {type(value).__name__}"
        )
    return value


def acquire_command(args: argparse.Namespace) -> int:
    """``batchbald acquire``: select a batch from saved log-probabilities."""
    import torch

    from batchbald.acquisition import get_acquirer

    acquirer = get_acquirer(args.method, **dict(args.param))
    log_probs = load_log_probs(args.log_probs)
    eval_log_probs = None
    if args.eval_log_probs is not None:
        if not acquirer.needs_eval_model:
            raise InvalidInputError(
                f"--eval-log-probs is only used by methods that need an evaluation model; "
                f"{args.method!r} does not"
            )
        eval_log_probs = load_log_probs(args.eval_log_probs, "--eval-log-probs")
    elif acquirer.needs_eval_model:
        raise InvalidInputError(
            f"method {args.method!r} needs the evaluation model's log-probabilities: pass "
            "--eval-log-probs FILE ([N, K, C], same pool)"
        )
    generator = torch.Generator().manual_seed(args.seed)
    result = acquirer(
        log_probs, args.batch_size, generator=generator, eval_log_probs_N_K_C=eval_log_probs
    )
    shape = list(log_probs.shape)
    print(
        f"{args.method}: picked {len(result)} of {shape[0]} pool points "
        f"(K = {shape[1]}, C = {shape[2]})"
    )
    print(f"{'rank':>4}  {'index':>8}  score")
    for rank, (index, score) in enumerate(
        zip(result.indices.tolist(), result.scores.tolist(), strict=True)
    ):
        print(f"{rank + 1:>4}  {index:>8}  {score:.6g}")
    if args.out:
        payload = {
            "method": args.method,
            "params": dict(acquirer.params),
            "batch_size": args.batch_size,
            "seed": args.seed,
            "log_probs": str(args.log_probs),
            "shape": shape,
            **result.to_dict(),
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``batchbald`` argument parser (subcommands run, report, list, acquire)."""
    parser = argparse.ArgumentParser(
        prog="batchbald",
        description="Deep Bayesian active learning: BALD, BatchBALD, EvaluationBALD, PowerBALD.",
        formatter_class=_formatter,
    )
    from batchbald import __version__

    parser.add_argument("--version", action="version", version=f"batchbald {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    _add_report(commands)
    commands.add_parser(
        "list", help="acquirers, datasets, models and configs", formatter_class=_formatter
    ).add_argument("--configs-dir", default="configs", help="folder searched for configs")
    _add_acquire(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``batchbald`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "acquire":
            return acquire_command(args)
        from batchbald.experiments import commands

        handlers = {
            "run": commands.run_command,
            "report": commands.report_command,
            "list": commands.list_command,
        }
        return handlers[args.command](args)
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
