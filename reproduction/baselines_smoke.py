"""Issue 24 smoke check: the baselines' configs load and run one acquisition step end to end.

Loads configs/epig_repeated_mnist.toml, configs/epig_imbalanced_mnist.toml and
configs/tmlr_repeated_mnist_x4.toml, shrinks each to a smoke size (stated below, NOT the
protocol), and runs trial 0 of the issue's methods for one acquisition: train, evaluate, score
the pool (plus penultimate features for BADGE/coreset), acquire b points, train again, stop.
Prints one line per method: experiment, method, pool size, acquired indices' count, seconds
per phase. It checks plumbing only; accuracies at this size mean nothing.

Smoke size: 600 training images (before flaws), 200 test images, 64 validation points, at
most 50 target inputs,
1 epoch of 128 examples, label budget = b (one acquisition). The other methods of these configs
(bald, power_bald, random) run in the existing sweeps; every config is also loaded by
tests/experiments/test_config.py.

Run: BATCHBALD_DATA_DIR=/work/shared/datasets .venv/bin/python reproduction/baselines_smoke.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from batchbald.experiments.config import config_from_dict, load_config
from batchbald.experiments.trial import TrialSpec, run_trial

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "epig_repeated_mnist": ["epig_b10", "coreset_b10"],
    "epig_imbalanced_mnist": ["power_epig_b10"],
    "tmlr_repeated_mnist_x4": ["badge_b10"],
}


def smoke_config(name: str) -> dict:
    """The config ``name`` at smoke size (see the module docstring)."""
    payload = load_config(ROOT / "configs" / f"{name}.toml").to_dict()
    payload["data"] = {
        **payload["data"],
        "train_subsample": 600,
        "test_subsample": 200,
        "validation_size": 64,
        "target_size": min(payload["data"].get("target_size", 0), 50),
    }
    payload["training"] = {**payload["training"], "max_epochs": 1, "epoch_size": 128}
    payload["stop"] = {**payload["stop"], "label_budget": 10}
    config_from_dict(payload)  # still a valid config
    return payload


def main() -> int:
    with tempfile.TemporaryDirectory() as out_dir:
        for name, methods in RUNS.items():
            payload = smoke_config(name)
            for method in methods:
                result = run_trial(TrialSpec(payload, method, 0, out_dir))
                first = result["steps"][0]
                timings = ", ".join(f"{k} {v:.2f}s" for k, v in sorted(first["timings"].items()))
                print(
                    f"{name} {method}: steps {len(result['steps'])}, acquired "
                    f"{len(first['acquired']['indices'])}, status {result['status']}; {timings}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
