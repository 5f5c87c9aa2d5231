"""The greedy batch rules on the real step-3 pool tensors: wall time and picks.

Times ``batch_evaluation_bald`` and ``batchbald`` (b = 10, M = 100,000, K = 100) on the
``[N, 100, 10]`` training and evaluation-model tensors (BatchBALD uses the training one) that
``reproduction/check_num_samples.py`` caches in ``results/check_num_samples_<n>.pt`` (step 0 of
the step-3 config, ``--initial-per-class 0``, and a model trained on 10 labels per class,
``10``), one thread, one run per method, case and dtype.

To compare two versions of the engine, run it under each and compare times and picks (the same
picks and final score mean the lazy bounds pruned differently, not that they chose differently):

    git worktree add /tmp/old <commit>
    for tree in /tmp/old .; do
        PYTHONPATH=$tree/src .venv/bin/python benchmarks/greedy_pools.py
    done
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from acquisition import machine_facts  # benchmarks/acquisition.py, beside this script
from batchbald.acquisition import batch_evaluation_bald, batchbald

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--cases", nargs="+", default=["0", "10"], help="cache suffixes <n>")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=["batch_evaluation_bald", "batchbald"],
        default=["batch_evaluation_bald"],
    )
    parser.add_argument("--num-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    facts = machine_facts()
    print(
        f"batchbald from {facts['library']} at commit {facts['git_commit']}, torch {facts['torch']}"
    )
    print("| method | case | dtype | wall s | picks | batch score |")
    print("|---|---|---|---|---|---|")
    for case in args.cases:
        path = ROOT / "results" / f"check_num_samples_{case}.pt"
        if not path.is_file():
            raise SystemExit(
                f"{path} is missing: run reproduction/check_num_samples.py "
                f"--initial-per-class {case} first"
            )
        pair = torch.load(path)
        for method in args.methods:
            for dtype in args.dtypes:
                options = {
                    "num_samples": args.num_samples,
                    "generator": torch.Generator().manual_seed(0),
                    "dtype": getattr(torch, dtype),
                }
                start = time.perf_counter()
                if method == "batchbald":
                    result = batchbald(pair["train"], 10, **options)
                else:
                    result = batch_evaluation_bald(pair["train"], pair["eval"], 10, **options)
                wall = time.perf_counter() - start
                print(
                    f"| {method} | {case} | {dtype} | {wall:.1f} | {result.indices.tolist()} | "
                    f"{result.scores[-1].item():.6f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
