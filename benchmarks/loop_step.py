"""One step of the BatchBALD paper's MNIST protocol, timed per phase (issue: loop speed).

Runs the first method of ``configs/mnist_table1.toml`` (BatchBALD b = 10, k = 100, full ≈59k
pool, the 20 paper indices, 1,024 validation points, the paper's training regime) for exactly
one acquisition (label budget b) plus the evaluation of the model trained after it, through the
same runner as ``batchbald run``, then prints the per-phase wall times of the first step and an
estimate of a whole trial.

    .venv/bin/python benchmarks/loop_step.py [--data-dir ../shared/datasets] [--num-samples M]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from batchbald.experiments import load_config, load_trials, plan_trials, run_trials

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "mnist_table1.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("BATCHBALD_DATA_DIR"))
    parser.add_argument("--num-samples", type=int, default=None, help="override BatchBALD's M")
    parser.add_argument("--out", default=None, help="keep the trial JSON here")
    args = parser.parse_args()
    config = load_config(CONFIG)
    method = config.methods[0]
    if args.num_samples is not None:
        method = dataclasses.replace(
            method, params={**method.params, "num_samples": args.num_samples}
        )
    config = dataclasses.replace(
        config,
        methods=(method,),
        trials=1,
        stop=dataclasses.replace(config.stop, label_budget=method.batch_size),
    )
    out = Path(args.out or tempfile.mkdtemp(prefix="loop_step_"))
    specs = plan_trials([config], out_dir=out, data_dir=args.data_dir, download=False)
    start = time.perf_counter()
    run_trials(specs, jobs=1, quiet=True)
    total = time.perf_counter() - start
    trial = load_trials([out])[0]
    first = trial.steps[0]
    print(f"method: {method.acquirer} b={method.batch_size} params={dict(method.params)}")
    print(
        f"k = {config.scoring.k}, test k = {config.scoring.test_k}, load average {os.getloadavg()}"
    )
    print("| phase | seconds |\n|---|---|")
    for phase, seconds in first["timings"].items():
        print(f"| {phase} | {seconds:.1f} |")
    step = sum(first["timings"].values())
    print(f"| **one step** | **{step:.1f}** ({step / 60:.2f} min) |")
    print(f"epochs trained: {first['epochs_trained']}, test accuracy {first['test_accuracy']:.4f}")
    print(f"whole run incl. data loading and the second model: {total:.1f} s")
    steps = 300 // method.batch_size + 1
    print(
        f"a full trial (≤ {steps} steps to 300 acquired) at this rate: ≈{steps * step / 3600:.1f} h"
    )
    print(json.dumps({"timings": first["timings"], "total_s": total}))


if __name__ == "__main__":
    main()
