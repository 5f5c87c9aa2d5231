"""Step 3: do M = 10,000 sampled configurations (not 100,000) change the greedy batches?

A deviation planned for step 3: BatchBALD and BatchEvaluationBALD with M = 10,000 sampled label
configurations instead of the report's 100,000.

Runs step 0 of trial 0 of ``configs/report_repeated_mnist_x2_small.toml`` (BatchEvaluationBALD:
train on the 20 initial points, score the pool with k = 100, self-distil the evaluation model and
score the pool with it) and keeps the two ``[N, 100, 10]`` pool tensors (cached in ``--cache``).
With ``--initial-per-class n`` the model is trained on n random labelled points per class
instead (``initial = "balanced"``): a model from the middle of the curve, whose batches do not
saturate the joint mutual information at log k as step 0's do.
On them it runs both greedy rules at b = 10 with M = 10,000 (three acquisition seeds) and
M = 100,000 (one seed; in float64, the default, and in float32, to check that the cheaper
precision picks the same batch), and re-estimates each batch's objective with fresh draws
common to all batches (``--eval-samples``; exact while C^b allows): BatchBALD's
I(y_1..y_b; ω) under the training model, and BatchEvaluationBALD's I_train(y_A; ω) −
I_eval(y_A; ω). Writes a markdown table and ``reproduction/checks/num_samples_<n>.json``
(atomically).

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python reproduction/check_num_samples.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from batchbald.acquisition import batch_evaluation_bald, batchbald  # noqa: E402
from batchbald.experiments.config import tomllib  # noqa: E402
from batchbald.experiments.results import atomic_write_json  # noqa: E402
from batchbald.experiments.trial import TrialSpec, build_trial_loop  # noqa: E402
from common import joint_mutual_information  # noqa: E402  (benchmarks/common.py)

CONFIG = ROOT / "configs" / "report_repeated_mnist_x2_small.toml"
METHOD = "batch_evaluation_bald_b10"


class Capture:
    """Wraps the loop's acquirer and keeps the pool tensors it is called with."""

    def __init__(self, acquirer) -> None:
        self.acquirer, self.tensors = acquirer, {}

    def __getattr__(self, name: str):
        return getattr(self.acquirer, name)

    def __call__(self, log_probs_N_K_C, batch_size, *, generator, eval_log_probs_N_K_C):
        self.tensors = {"train": log_probs_N_K_C.clone(), "eval": eval_log_probs_N_K_C.clone()}
        return self.acquirer(
            log_probs_N_K_C,
            batch_size,
            generator=generator,
            eval_log_probs_N_K_C=eval_log_probs_N_K_C,
        )


def pool_tensors(cache: Path, data_dir: str | None, per_class: int) -> dict[str, torch.Tensor]:
    if cache.exists():
        return torch.load(cache)
    config = tomllib.loads(CONFIG.read_text())
    if per_class:
        config["data"].update(initial="balanced", initial_per_class=per_class)
    spec = TrialSpec(config, METHOD, 0, str(cache.parent), data_dir)
    loop = build_trial_loop(spec, spec.experiment())
    capture = Capture(loop.acquirer)
    loop.acquirer = capture
    start = time.perf_counter()
    record = loop.step()
    print(f"step 0: test accuracy {record.test_accuracy:.4f}, {time.perf_counter() - start:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save(capture.tensors, cache.with_suffix(".tmp"))
    os.replace(cache.with_suffix(".tmp"), cache)
    return capture.tensors


def objective(tensors, method: str, picks: list[int], eval_samples: int, seed: int) -> dict:
    train = joint_mutual_information(tensors["train"], picks, num_samples=eval_samples, seed=seed)
    if method == "batchbald":
        return train
    evaluation = joint_mutual_information(
        tensors["eval"], picks, num_samples=eval_samples, seed=seed
    )
    return {
        "mi": train["mi"] - evaluation["mi"],
        "se": (train["se"] ** 2 + evaluation["se"] ** 2) ** 0.5,
        "exact": train["exact"] and evaluation["exact"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--initial-per-class",
        type=int,
        default=0,
        help="0: the paper's 20 initial points; n: n random labelled points per class",
    )
    parser.add_argument("--cache", type=Path, help="default: results/check_num_samples_<n>.pt")
    parser.add_argument(
        "--out", type=Path, help="default: reproduction/checks/num_samples_<n>.json"
    )
    parser.add_argument("--eval-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    per_class = args.initial_per_class
    cache = args.cache or ROOT / "results" / f"check_num_samples_{per_class}.pt"
    out = args.out or ROOT / "reproduction" / "checks" / f"num_samples_{per_class}.json"
    tensors = pool_tensors(cache, os.environ.get("BATCHBALD_DATA_DIR"), per_class)
    print(f"pool: {tuple(tensors['train'].shape)}")
    # (M, acquisition seed, dtype); the float64 M = 100,000 run is the reference.
    reference_run = (100_000, 0, "float64")
    runs = [(10_000, 0, "float64"), (10_000, 1, "float64"), (10_000, 2, "float64"),
            reference_run, (100_000, 0, "float32")]  # fmt: skip
    rules = {
        "batchbald": lambda M, g, dtype: batchbald(
            tensors["train"], 10, num_samples=M, generator=g, dtype=dtype
        ),
        "batch_evaluation_bald": lambda M, g, dtype: batch_evaluation_bald(
            tensors["train"], tensors["eval"], 10, num_samples=M, generator=g, dtype=dtype
        ),
    }
    results = []
    print(
        "| rule | M | seed | dtype | seconds | objective re-estimated (± s.e.) "
        "| picks shared with M = 100,000, float64 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, rule in rules.items():
        rows = []
        for num_samples, seed, dtype in runs:
            start = time.perf_counter()
            result = rule(num_samples, torch.Generator().manual_seed(seed), dtype)
            seconds = time.perf_counter() - start
            picks = result.indices.tolist()
            value = objective(tensors, name, picks, args.eval_samples, seed=12345)
            rows.append({"rule": name, "num_samples": num_samples, "seed": seed, "dtype": dtype,
                         "seconds": seconds, "picks": picks, "objective": value})  # fmt: skip
        reference = set(rows[runs.index(reference_run)]["picks"])
        for row in rows:
            row["shared_with_100k"] = len(reference & set(row["picks"]))
            value = row["objective"]
            print(
                f"| {name} | {row['num_samples']:,} | {row['seed']} | {row['dtype']} | "
                f"{row['seconds']:.1f} | "
                f"{value['mi']:.4f} ± {value['se']:.4f} | {row['shared_with_100k']} / 10 |",
                flush=True,
            )
        results.extend(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out, {
        "command": "BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python "
                   f"reproduction/check_num_samples.py --initial-per-class {per_class}",
        "config": str(CONFIG.relative_to(ROOT)), "method": METHOD, "trial": 0, "step": 0,
        "initial_per_class": per_class or "paper_mnist (20 points)",
        "eval_samples": args.eval_samples, "results": results,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
