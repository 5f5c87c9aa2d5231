"""``batchbald score``: score a pool with a trained model into a log-probability store.

Locally (one process), on a local Ray instance (``--ray``) or on a Ray cluster
(``--ray-address``): the same store byte for byte (``docs/scale.md``). Resumable: running the
same command again after an interruption writes only the shards that are not complete yet.
"""

from __future__ import annotations

import argparse
from typing import Any

from batchbald.commands.formatting import formatter

__all__ = ["add_parser", "score_command"]

ITEMS_FILE = "items.txt"


def add_parser(commands: Any) -> None:
    """Add ``score`` to the subparsers ``commands``."""
    from batchbald.scale.pool_inputs import SOURCE_FORMS

    score = commands.add_parser(
        "score",
        help="score a pool with a trained model into a log-probability store (local or Ray)",
        description="Write the pool's MC-dropout log-probabilities [N, K, C] into the store "
        "directory OUT, shard by shard (then: batchbald acquire OUT --method ...). Running the "
        "same command again resumes an interrupted job. Local, --ray or --ray-address: the "
        f"same bytes. SOURCE forms: {SOURCE_FORMS}.",
        formatter_class=formatter,
    )
    score.set_defaults(handler=score_command)
    score.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar="SOURCE",
        help="the pool (default with --campaign: the campaign's source)",
    )
    score.add_argument("--out", required=True, help="store directory to write (or resume)")
    _add_model_options(score)
    _add_job_options(score)


def _add_model_options(score: argparse.ArgumentParser) -> None:
    model = score.add_argument_group("model (one of)")
    model.add_argument(
        "--campaign",
        default=None,
        metavar="PROJECT",
        help="a campaign project: its latest trained model, K and image format",
    )
    model.add_argument(
        "--model",
        default=None,
        metavar="NAME|TOML",
        help="a model name (batchbald list) or a TOML file with a [model] table",
    )
    model.add_argument(
        "--weights",
        default=None,
        metavar="FILE",
        help="the model's trained weights (.safetensors or a torch state dict)",
    )
    model.add_argument(
        "--num-classes", type=int, default=None, metavar="C", help="classes of --model"
    )


def _add_job_options(score: argparse.ArgumentParser) -> None:
    score.add_argument(
        "--k", type=int, default=None, help="MC-dropout samples (default: the campaign's, else 20)"
    )
    score.add_argument("--seed", type=int, default=0, help="seed of the K dropout masks")
    score.add_argument(
        "--shard-rows",
        type=int,
        default=4096,
        help="rows per shard: the unit of work and of resumption",
    )
    score.add_argument("--image-size", type=int, default=28, help="image sources: pixels a side")
    score.add_argument("--channels", type=int, default=1, choices=(1, 3), help="image channels")
    where = score.add_mutually_exclusive_group()
    where.add_argument(
        "--ray",
        action="store_true",
        help="run shards as tasks on a local Ray instance (--workers CPUs)",
    )
    where.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="run on the Ray cluster at host:port, ray://host:port or auto",
    )
    score.add_argument("--workers", type=int, default=2, help="CPUs of a local Ray instance")


def _model_and_pool(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """``(model, pool, K)`` from the arguments (see :mod:`batchbald.scale.models_to_score`)."""
    from batchbald.data.pool_images import ImageFormat
    from batchbald.errors import InvalidInputError
    from batchbald.scale.models_to_score import campaign_model, spec_model
    from batchbald.scale.pool_inputs import load_pool

    if (args.campaign is None) == (args.model is None):
        raise InvalidInputError(
            "score needs one model: --campaign PROJECT, or --model NAME --weights FILE "
            f"--num-classes C; got {'both' if args.campaign else 'neither'}"
        )
    if args.campaign is not None:
        found = campaign_model(args.campaign)
        pool = load_pool(args.source or found.source, found.image_format)
        return found.model, pool, args.k or found.k
    if args.source is None:
        raise InvalidInputError("SOURCE is required with --model (the pool to score)")
    fmt = ImageFormat(size=args.image_size, channels=args.channels)
    pool = load_pool(args.source, fmt)
    model = spec_model(args.model, args.weights, args.num_classes, tuple(pool.inputs.shape[1:]))
    return model, pool, args.k or 20


def _check_items(path: Any, item_ids: list[str]) -> None:
    """Record the pool's ids in the store (once); a resumed job must score the same pool."""
    from pathlib import Path

    from batchbald.atomic import atomic_write_bytes
    from batchbald.errors import StoreError

    file = Path(path) / ITEMS_FILE
    text = "".join(f"{item_id}\n" for item_id in item_ids)
    if file.is_file():
        if file.read_text(encoding="utf-8") != text:
            raise StoreError(
                f"store {str(path)!r} was begun on another pool (its {ITEMS_FILE} lists other "
                "items); use another --out directory or delete it"
            )
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(file, text.encode())


def score_command(args: argparse.Namespace) -> int:
    """Score the pool into the store (resuming it); print what was done and what comes next."""
    import time

    import torch

    from batchbald.scale.scoring import score_to_store
    from batchbald.scale.writer import pending_shards

    if args.ray_address is not None:  # fail fast, before any work, on an unreachable cluster
        from batchbald.scale.ray_jobs import check_address

        check_address(args.ray_address)
    model, pool, k = _model_and_pool(args)
    before = pending_shards(args.out)
    _check_items(args.out, pool.item_ids)
    started = time.perf_counter()
    store = score_to_store(
        model,
        pool.inputs,
        k,
        args.out,
        generator=torch.Generator().manual_seed(args.seed),
        shard_rows=args.shard_rows,
        use_ray=args.ray,
        ray_address=args.ray_address,
        workers=args.workers,
    )
    shards = len(store.parts)
    written = shards if before is None else before
    where = args.ray_address or ("local Ray" if args.ray else "this process")
    print(
        f"scored {store.shape[0]} items × K = {k} × C = {store.shape[2]} into {args.out} "
        f"({written} of {shards} shards written now, on {where}, "
        f"{time.perf_counter() - started:.1f} s); row ids in {args.out}/{ITEMS_FILE}"
    )
    print(f"next: batchbald acquire {args.out} --method batchbald --batch-size 10")
    return 0
