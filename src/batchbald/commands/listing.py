"""``batchbald list``: acquirers (with their parameters), datasets, models and configs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from batchbald.commands.formatting import formatter

__all__ = ["add_parser", "list_command"]


def add_parser(commands: Any) -> None:
    """Add ``list`` to the subparsers ``commands``."""
    listing = commands.add_parser(
        "list", help="acquirers, datasets, models and configs", formatter_class=formatter
    )
    listing.set_defaults(handler=list_command)
    listing.add_argument("--configs-dir", default="configs", help="folder searched for configs")


def list_command(args: argparse.Namespace) -> int:
    """Acquirers (with descriptions and parameters), datasets, models and configs."""
    from batchbald.experiments.components import available_dataset_names
    from batchbald.models import model_descriptions

    _print_acquirers()
    print("datasets:\n  " + ", ".join(available_dataset_names()) + ", embeddings:FOLDER")
    print("models (model = NAME, or a [model] table with kind = NAME; docs/models.md):")
    for name, description in model_descriptions().items():
        print(f"  {name:24s} {description}")
    _print_configs(args.configs_dir)
    return 0


def _print_acquirers() -> None:
    from batchbald.acquisition import available_acquirers, get_acquirer

    print("acquirers:")
    for name in available_acquirers():
        acquirer = get_acquirer(name)
        extra = " [needs an evaluation model]" if acquirer.needs_eval_model else ""
        extra += (
            " [target inputs: data.target_size, else the pool]" if acquirer.uses_targets else ""
        )
        print(f"  {name:24s} {acquirer.description}{extra}")
        if acquirer.declared:
            print(f"  {'':24s} params: {acquirer.describe_params()}")


def _print_configs(configs_dir: str) -> None:
    from batchbald.experiments.config import load_config

    configs = sorted(Path(configs_dir).glob("*.toml"))
    print(f"configs ({configs_dir}/):" if configs else f"configs: none in {configs_dir}/")
    for path in configs:
        try:
            config = load_config(path)
            summary = f"{config.description or config.name} ({len(config.methods)} methods)"
        except Exception as error:
            summary = f"invalid: {error}"
        print(f"  {path!s:40s} {summary}")
