"""``batchbald acquire``: pick a batch from log-probabilities saved by any framework."""

from __future__ import annotations

import argparse
import json
import pickle
import warnings
from typing import TYPE_CHECKING, Any

from batchbald.atomic import atomic_write_text
from batchbald.commands.formatting import param, raw_formatter, seed
from batchbald.commands.log_probs_file import LOG_PROBS_LAYOUT, load_log_probs
from batchbald.commands.outputs import check_output_file
from batchbald.errors import BatchBALDError, DataError, InvalidInputError

if TYPE_CHECKING:
    from batchbald.acquisition import AcquisitionResult

__all__ = ["acquire_command", "add_parser"]


def add_parser(commands: Any) -> None:
    """Add ``acquire`` to the subparsers ``commands`` (its epilog lists the registry)."""
    from batchbald.acquisition import available_acquirers

    acquire = commands.add_parser(
        "acquire",
        help="pick a batch from saved log-probabilities (.npy / .pt)",
        description="Select a batch of pool points with any registered acquisition function\n"
        "from log-probabilities saved by any framework.\n\n" + LOG_PROBS_LAYOUT,
        epilog="methods:\n" + _methods(),
        formatter_class=raw_formatter,
    )
    acquire.set_defaults(handler=acquire_command)
    acquire.add_argument(
        "log_probs",
        metavar="LOG_PROBS",
        help="[N, K, C] log-probabilities (.npy or .pt), or a store directory (streamed, any size)",
    )
    acquire.add_argument(
        "--method",
        required=True,
        choices=available_acquirers(),
        metavar="NAME",
        help="acquisition function (listed below)",
    )
    acquire.add_argument("--batch-size", type=int, required=True, help="points to pick (b)")
    acquire.add_argument(
        "--seed", type=seed, default=0, help="seed of the acquisition generator, in [0, 2**64)"
    )
    _add_inputs_and_output(acquire)


def _methods() -> str:
    from batchbald.acquisition import available_acquirers, get_acquirer

    return "\n".join(
        f"  {name:24s} {get_acquirer(name).description}"
        + (" [needs --eval-log-probs]" if get_acquirer(name).needs_eval_model else "")
        + (" [needs --embeddings]" if get_acquirer(name).needs_embeddings else "")
        + (" [--target-log-probs or pool targets]" if get_acquirer(name).uses_targets else "")
        for name in available_acquirers()
    )


def _add_inputs_and_output(acquire: argparse.ArgumentParser) -> None:
    acquire.add_argument(
        "--param",
        type=param,
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
    acquire.add_argument(
        "--target-log-probs", default=None, metavar="FILE",
        help="[T, K, C] log-probabilities of target inputs under the same K samples as "
        "LOG_PROBS, for the EPIG methods (default: targets drawn from the pool)",
    )  # fmt: skip
    acquire.add_argument(
        "--embeddings",
        default=None,
        metavar="FILE",
        help="[N, D] features of the pool (e.g. the penultimate layer), for badge and coreset",
    )
    acquire.add_argument(
        "--labelled-embeddings",
        default=None,
        metavar="FILE",
        help="[L, D] features of the labelled points: coreset's first centres (optional)",
    )
    acquire.add_argument(
        "--out",
        default=None,
        help="write the picks as JSON here (atomically; an existing file only with --overwrite)",
    )
    acquire.add_argument(
        "--overwrite", action="store_true", help="let --out replace an existing file (else refused)"
    )


def acquire_command(args: argparse.Namespace) -> int:
    """Select a batch from saved log-probabilities; print the picks, optionally write JSON."""
    import torch

    from batchbald.acquisition import get_acquirer
    from batchbald.scale.command import select_from_store, streams

    if args.out:  # checked before the work: a mistake here must not cost a long acquisition
        check_output_file(args.out, "--out", overwrite=args.overwrite)
    targets = _targets(args, used=get_acquirer(args.method).uses_targets)
    if streams(args.log_probs, args.method, args.eval_log_probs):
        # A store directory or a .npy larger than memory: streamed, same picks (docs/scale.md).
        result, shape, params = select_from_store(args)
        _print_picks(args.method, result, shape)
        if args.out:
            _write_picks(args, params, result, shape)
        return 0
    acquirer = get_acquirer(args.method, **dict(args.param))
    log_probs = _read(args.log_probs, "LOG_PROBS")
    eval_log_probs = _eval_log_probs(args, needed=acquirer.needs_eval_model)
    features = _features(args, needed=acquirer.needs_embeddings)
    generator = torch.Generator().manual_seed(args.seed)
    result = acquirer(
        log_probs,
        args.batch_size,
        generator=generator,
        eval_log_probs_N_K_C=eval_log_probs,
        target_log_probs_T_K_C=targets,
        **features,
    )
    shape = list(log_probs.shape)
    _print_picks(args.method, result, shape)
    if args.out:
        _write_picks(args, dict(acquirer.params), result, shape)
    return 0


def _print_picks(method: str, result: AcquisitionResult, shape: list[int]) -> None:
    print(
        f"{method}: picked {len(result)} of {shape[0]} pool points (K = {shape[1]}, C = {shape[2]})"
    )
    print(f"{'rank':>4}  {'index':>8}  score")
    for rank, (index, score) in enumerate(
        zip(result.indices.tolist(), result.scores.tolist(), strict=True)
    ):
        print(f"{rank + 1:>4}  {index:>8}  {score:.6g}")


def _write_picks(
    args: argparse.Namespace, params: dict, result: AcquisitionResult, shape: list[int]
) -> None:
    payload = {
        "method": args.method,
        "params": params,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "log_probs": str(args.log_probs),
        "shape": shape,
        **({"target_log_probs": str(args.target_log_probs)} if args.target_log_probs else {}),
        **result.to_dict(),
    }
    atomic_write_text(args.out, json.dumps(payload, indent=1) + "\n")
    print(f"wrote {args.out}")


def _eval_log_probs(args: argparse.Namespace, *, needed: bool) -> Any:
    if args.eval_log_probs is None:
        if needed:
            raise InvalidInputError(
                f"method {args.method!r} needs the evaluation model's log-probabilities: pass "
                "--eval-log-probs FILE ([N, K, C], same pool)"
            )
        return None
    if not needed:
        raise InvalidInputError(
            f"--eval-log-probs is only used by methods that need an evaluation model; "
            f"{args.method!r} does not"
        )
    return _read(args.eval_log_probs, "--eval-log-probs")


def _targets(args: argparse.Namespace, *, used: bool) -> Any:
    """``--target-log-probs`` read, for the methods that use targets (EPIG family)."""
    if args.target_log_probs is None:
        return None
    if not used:
        raise InvalidInputError(
            f"--target-log-probs is only used by the EPIG methods (epig, power_epig, "
            f"batch_epig); {args.method!r} does not use target inputs"
        )
    return _read(args.target_log_probs, "--target-log-probs")


def _features(args: argparse.Namespace, *, needed: bool) -> dict[str, Any]:
    """``--embeddings`` / ``--labelled-embeddings`` as the acquirer's feature keywords."""
    given = [flag for flag, value in (("--embeddings", args.embeddings),
             ("--labelled-embeddings", args.labelled_embeddings)) if value is not None]  # fmt: skip
    if not needed:
        if given:
            raise InvalidInputError(
                f"{given[0]} is only used by methods that need features (badge, coreset); "
                f"{args.method!r} does not"
            )
        return {}
    if args.embeddings is None:
        raise InvalidInputError(
            f"method {args.method!r} needs the pool's features: pass --embeddings FILE "
            "([N, D], rows in the order of LOG_PROBS)"
        )
    labelled = args.labelled_embeddings
    return {
        "embeddings_N_D": _read(args.embeddings, "--embeddings"),
        "labelled_embeddings_L_D": None
        if labelled is None
        else _read(labelled, "--labelled-embeddings"),
    }


def _read(path: str, name: str) -> Any:
    """:func:`load_log_probs`, refusals of numpy or torch turned into one line.

    Whatever they raise on a file they refuse (a ``.npy`` that is a torch file, random bytes,
    a pickle that ``weights_only`` rejects, an array of strings) becomes a
    :class:`DataError`: the file is wrong, not batchbald. Their warnings are silenced.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"torch\.")
            return load_log_probs(path, name)
    except (BatchBALDError, OSError):  # the library's own message; the system's (one line)
        raise
    except Exception as error:
        kind = "a numpy.save array" if str(path).lower().endswith(".npy") else "a torch.save tensor"
        raise DataError(
            f"cannot read {name} file {str(path)!r} as {kind}: {_reason(error)}"
        ) from None


def _reason(error: Exception) -> str:
    """The first sentence of ``error`` (torch's unpickling advice would mislead here)."""
    if isinstance(error, pickle.UnpicklingError):
        return "torch.load(weights_only=True) refuses it (not a file of tensors)"
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return first.split(". ")[0].rstrip(".")
