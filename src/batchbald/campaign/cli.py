"""``batchbald campaign init|propose|label|skip|undo|status|export|serve``.

:func:`add_parser` adds the subcommand to the main parser (listed in
``batchbald.commands.COMMANDS``) and binds :func:`campaign_command` as its ``handler``. Bad
input raises a library error, which the main CLI prints as one line before exiting with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from batchbald.campaign.cli_text import print_round, print_status
from batchbald.commands.formatting import formatter, param, seed_below
from batchbald.commands.outputs import check_output_file

__all__ = ["add_parser", "campaign_command"]


def _add_sources(init: Any) -> None:
    """The pool source options of ``init`` (exactly one), and the target source option."""
    where = init.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--images",
        help="folder of images (nested or flat; class sub-folders "
        "named like a class are already labelled)",
    )
    where.add_argument("--manifest", help="CSV file of path[,label] rows")
    where.add_argument("--arrays", help=".npz file with images [N,H,W] uint8 (labels optional)")
    where.add_argument(
        "--embeddings",
        help="precomputed features: .npy float32 [N,D] (memory-mapped) or .npz with "
        "'features' (labels optional); items are the rows",
    )
    _add_target(init)


def _add_target(init: Any) -> None:
    init.add_argument(
        "--target",
        default="",
        metavar="SPEC",
        help="unlabelled samples of what the model will be used on (a folder, CSV or .npz like "
        "the pool), for the EPIG methods; default: their targets come from the pool",
    )


def _add_init(commands: Any) -> None:
    init = commands.add_parser("init", help="create a campaign in PROJECT from a pool of images")
    init.add_argument("project", type=Path, help="project folder (created)")
    _add_sources(init)
    init.add_argument("--classes", required=True, help="class names, comma-separated: cat,dog,fox")
    init.add_argument(
        "--db",
        help="database URL (default: PROJECT/campaign.db, SQLite); "
        "postgresql://USER:PASSWORD@HOST/DB for a team",
    )
    init.add_argument("--method", default="batchbald", help="acquirer (batchbald list)")
    init.add_argument("--batch-size", type=int, default=10, help="items per round")
    init.add_argument(
        "--model",
        default="mnist_cnn",
        metavar="SPEC",
        help="a model kind (batchbald list), a .toml/.json file with the keys of a run "
        "config's [model] table, or inline key=value pairs: "
        "kind=resnet18,posterior=last_layer_dropout,weights=w.safetensors "
        "(docs/campaigns.md)",
    )
    # The seed is stored in a signed 64-bit database column.
    seed = {"type": seed_below(2**63), "default": 0}
    init.add_argument("--seed", **seed, help="seed of every random choice, in [0, 2**63)")
    k_help = "posterior samples that score the pool (≤ members for an ensemble)"
    init.add_argument("--k", type=int, default=20, help=k_help)
    for flag, what in (
        ("param", "acquirer parameter"),
        ("training", "TrainingConfig field"),
        ("regime", "labels-only regime field"),
        ("image", "image format field"),
    ):
        init.add_argument(
            f"--{flag}",
            action="append",
            type=param,
            default=[],
            metavar="KEY=VALUE",
            help=f"{what} (repeatable)",
        )


def add_parser(commands: Any) -> None:
    """Add ``campaign`` and its subcommands to the subparsers ``commands``."""
    campaign = commands.add_parser(
        "campaign", help="label your own images with active learning", formatter_class=formatter
    )
    campaign.set_defaults(handler=campaign_command)
    sub = campaign.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    _add_init(sub)
    propose = sub.add_parser("propose", help="train on the labels so far and propose a batch")
    propose.add_argument("project", type=Path)
    propose.add_argument("--batch-size", type=int, help="items (default: the campaign's)")
    label = sub.add_parser("label", help="record a label (the web page's rules)")
    label.add_argument("project", type=Path)
    label.add_argument("item", help="item id (as status and the page show it)")
    label.add_argument("label", help="one of the campaign's classes")
    skip = sub.add_parser("skip", help="skip an item of the current round")
    skip.add_argument("project", type=Path)
    skip.add_argument("item")
    undo = sub.add_parser("undo", help="cancel the annotator's latest answer in this round")
    undo.add_argument("project", type=Path)
    for parser in (label, skip, undo):
        parser.add_argument("--annotator", required=True, help="who answers")
        parser.add_argument("--request-id", help="idempotency key (a retry records nothing)")
    status = sub.add_parser("status", help="labels, rounds, model quality")
    status.add_argument("project", type=Path)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--plot", type=Path, help="write a PNG of the accuracy estimate per model")
    export = sub.add_parser("export", help="write the current labels as CSV")
    export.add_argument("project", type=Path)
    export.add_argument(
        "--out", type=Path, required=True, help="CSV file to write (replaced atomically)"
    )
    serve = sub.add_parser("serve", help="the labelling web page")
    serve.add_argument("project", type=Path)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind")
    serve.add_argument("--port", type=int, default=8000, help="port")
    serve.add_argument("--token", help="access token (required on a non-local address)")


def _init(args: argparse.Namespace) -> int:
    from batchbald.campaign import Campaign
    from batchbald.commands.formatting import model_spec_text

    kinds = {"images": "folder", "manifest": "csv", "arrays": "npz", "embeddings": "features"}
    source = next(f"{kind}:{getattr(args, name)}" for name, kind in kinds.items()
                  if getattr(args, name))  # fmt: skip
    campaign = Campaign.init(
        args.project,
        source=source,
        classes=[c.strip() for c in args.classes.split(",")],
        db_url=args.db,
        method=args.method,
        batch_size=args.batch_size,
        model=model_spec_text(args.model),
        seed=args.seed,
        k=args.k,
        method_params=dict(args.param),
        training=dict(args.training),
        regime=dict(args.regime),
        image=dict(args.image),
        target=args.target,
    )
    status = campaign.status()
    print(
        f"created campaign {campaign.project} ({status['pool']['present']} items, "
        f"{status['labels']} already labelled); next: batchbald campaign propose {args.project}"
    )
    return 0


def _propose(args: argparse.Namespace, campaign: Any) -> int:
    def show(phase: str, fraction: float) -> None:
        print(f"propose: {phase} ({fraction:.0%})", file=sys.stderr, flush=True)

    print_round(campaign.propose(args.batch_size, on_progress=show))
    return 0


def _answer(args: argparse.Namespace, campaign: Any) -> int:
    if args.campaign_command == "label":
        event = campaign.record(args.item, args.label, args.annotator, request_id=args.request_id)
    elif args.campaign_command == "skip":
        event = campaign.skip(args.item, args.annotator, request_id=args.request_id)
    else:
        event = campaign.undo(args.annotator, request_id=args.request_id)
        if event is None:
            print(f"nothing to undo for {args.annotator} in the current round")
            return 0
    print(
        f"{event.kind} {event.item_id} {event.label or ''} by {event.annotator} (event {event.id})"
    )
    return 0


def _status(args: argparse.Namespace, campaign: Any) -> int:
    if args.plot:
        check_output_file(args.plot, "--plot")
    status = campaign.status()
    if args.json:
        print(json.dumps(status, indent=1))
    else:
        print_status(status)
    if args.plot:
        from batchbald.campaign.cli_text import plot_estimates

        plot_estimates(campaign, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from batchbald.campaign.errors import CampaignError

    try:
        from batchbald.campaign.web import serve
    except ImportError as error:
        raise CampaignError(
            f"serve: the web page is not available in this install ({error})"
        ) from None
    serve(args.project, host=args.host, port=args.port, token=args.token)
    return 0


def campaign_command(args: argparse.Namespace) -> int:
    """Run one ``batchbald campaign`` subcommand; database failures become one-line errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from batchbald.campaign import Campaign
    from batchbald.campaign.errors import CampaignError

    try:
        if args.campaign_command == "init":
            return _init(args)
        if args.campaign_command == "serve":
            return _serve(args)
        campaign = Campaign.open(args.project)
        if args.campaign_command == "propose":
            return _propose(args, campaign)
        if args.campaign_command == "status":
            return _status(args, campaign)
        if args.campaign_command == "export":
            check_output_file(args.out, "--out")
            print(f"wrote {campaign.export(args.out)} labels to {args.out}")
            return 0
        return _answer(args, campaign)
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise CampaignError(f"database error: {first}") from None
