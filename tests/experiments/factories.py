"""Hand-made trial results for report and plot tests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from batchbald.experiments.results import FORMAT, TrialResult


def trial_payload(
    accuracies: Sequence[float],
    *,
    method: str = "bald_b10",
    trial: int = 0,
    batch_size: int = 10,
    initial: int = 20,
    label_budget: int = 300,
    num_classes: int = 10,
    seconds: float = 1.0,
    acquisition_seconds: float = 0.0,
    experiment: str = "toy",
    stop_reason: str | None = "label_budget",
) -> dict:
    """A trial-file payload whose step t has size ``initial + t·b`` and the given accuracy."""
    steps = []
    for t, accuracy in enumerate(accuracies):
        last = t == len(accuracies) - 1
        labels = [] if last else [(t * batch_size + j) % num_classes for j in range(batch_size)]
        steps.append(
            {
                "step": t,
                "train_size": initial + t * batch_size,
                "test_accuracy": accuracy,
                "test_nll": 1.0 - accuracy,
                "validation_accuracy": accuracy,
                "epochs_trained": 3,
                "timings": {
                    "training": seconds,
                    "scoring": 0.0,
                    "acquisition": 0.0 if last else acquisition_seconds,
                },
                "acquired": {
                    "indices": list(range(t * batch_size, t * batch_size + len(labels))),
                    "scores": [0.5] * len(labels),
                    "labels": labels,
                },
            }
        )
    return {
        "format": FORMAT,
        "experiment": experiment,
        "method": method,
        "trial": trial,
        "seed": trial,
        "batch_size": batch_size,
        "label_budget": label_budget,
        "num_classes": num_classes,
        "class_names": [],
        "status": "complete" if stop_reason else "running",
        "stop_reason": stop_reason,
        "steps": steps,
    }


def make_trial(accuracies: Sequence[float], **kwargs) -> TrialResult:
    return TrialResult.from_payload(trial_payload(accuracies, **kwargs))


def tiny_config(**overrides) -> dict:
    """A config table that runs in about a second per trial (synthetic data, tiny training)."""
    table = {
        "name": "tiny",
        "trials": 1,
        "seed": 0,
        "model": "mnist_cnn",
        "data": {
            "dataset": "synthetic",
            "initial": "balanced",
            "initial_per_class": 1,
            "validation_size": 20,
            "train_subsample": 150,
            "test_subsample": 50,
        },
        "training": {"epoch_size": 32, "max_epochs": 2, "patience": 1, "batch_size": 16},
        "scoring": {"k": 2, "test_k": 2},
        "stop": {"label_budget": 6},
        "methods": [
            {"acquirer": "bald", "batch_size": 3},
            {"acquirer": "random", "batch_size": 3},
        ],
    }
    table.update(overrides)
    return table


def to_toml(table: dict) -> str:
    """Just enough TOML for :func:`tiny_config` (tables, arrays of tables, scalars)."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in table.items() if not isinstance(v, (dict, list))]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += [f"[{key}]", *(f"{k} = {json.dumps(v)}" for k, v in value.items())]
        elif isinstance(value, list):
            for item in value:
                lines += [f"[[{key}]]", *(f"{k} = {json.dumps(v)}" for k, v in item.items())]
    return "\n".join(lines) + "\n"
