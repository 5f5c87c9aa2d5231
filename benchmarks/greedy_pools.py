"""The greedy batch rules on the real step-3 pool tensors: wall time and picks.

Times ``batch_evaluation_bald`` and ``batchbald`` (b = 10, M = 100,000, K = 100) on the
``[N, 100, 10]`` training and evaluation-model tensors (BatchBALD uses the training one) that
``reproduction/check_num_samples.py`` caches in ``results/check_num_samples_<n>.pt`` (step 0 of
the step-3 config, ``--initial-per-class 0``, and a model trained on 10 labels per class,
``10``), one thread, ``--repeats`` runs per method, case and dtype; ``--cases synthetic``
uses the synthetic pool of ``benchmarks/method_costs.py`` instead.

To compare BatchEvaluationBALD's refinement stages, interleaved in one process:

    .venv/bin/python benchmarks/greedy_pools.py --dtypes float32 --refine-stages 64e,64t \
        64e,8t,64t --repeats 2

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
from batchbald.acquisition import _evaluation_greedy, batch_evaluation_bald, batchbald

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["0", "10"],
        help="cache suffixes <n>, or 'synthetic' (method_costs.py's pool; it uses M = 10,000)",
    )
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=["batch_evaluation_bald", "batchbald"],
        default=["batch_evaluation_bald"],
    )
    parser.add_argument("--num-samples", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--refine-stages",
        nargs="+",
        default=["default"],
        help="BatchEvaluationBALD's refinement stages to compare, each a comma list of "
        "<intervals per posterior mode><e|t> (e: evaluation term, t: training term), e.g. "
        "64e,64t 64e,8t,64t; 'default' keeps the library's "
        f"{_stages_text(_evaluation_greedy.REFINE_STAGES)}. Variants run interleaved, case by case",
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs of each variant")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    facts = machine_facts()
    print(
        f"batchbald from {facts['library']} at commit {facts['git_commit']}, torch {facts['torch']}"
    )
    default_stages = _evaluation_greedy.REFINE_STAGES
    variants = [
        default_stages if text == "default" else _parse_stages(text, parser)
        for text in args.refine_stages
    ]
    print("| method | case | dtype | refine stages | wall s | picks | batch score |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases:
        pair = _pool(case)
        for method in args.methods:
            for dtype in args.dtypes:
                for _ in range(args.repeats):
                    for stages in variants if method == "batch_evaluation_bald" else [None]:
                        _evaluation_greedy.REFINE_STAGES = stages or default_stages
                        wall, result = _timed(method, pair, dtype, args.num_samples)
                        label = _stages_text(stages) if stages else "-"
                        print(
                            f"| {method} | {case} | {dtype} | {label} | {wall:.1f} | "
                            f"{result.indices.tolist()} | {result.scores[-1].item():.6f} |",
                            flush=True,
                        )
    _evaluation_greedy.REFINE_STAGES = default_stages
    return 0


def _stages_text(stages) -> str:
    """``((64, True), (8, False))`` -> ``"64e,8t"``."""
    return ",".join(f"{bins}{'e' if evaluation_term else 't'}" for bins, evaluation_term in stages)


def _parse_stages(text: str, parser: argparse.ArgumentParser) -> tuple[tuple[int, bool], ...]:
    """``"64e,8t"`` -> ``((64, True), (8, False))``; a malformed stage is a usage error."""
    stages = []
    for item in text.split(","):
        if len(item) < 2 or item[-1] not in "et" or not item[:-1].isdigit() or int(item[:-1]) < 1:
            parser.error(f"--refine-stages: expected items like 64e or 8t; got {item!r}")
        stages.append((int(item[:-1]), item[-1] == "e"))
    return tuple(stages)


def _pool(case: str) -> dict:
    """The ``train`` and ``eval`` ``[N, 100, 10]`` tensors of a cached real pool or, for
    ``synthetic``, of method_costs.py's synthetic 60,000-point pool (its evaluation stand-in)."""
    if case == "synthetic":
        from method_costs import FULL, build_pools  # benchmarks/method_costs.py, beside this

        train, evaluation = build_pools(FULL, seed=0)[FULL.K_greedy]
        return {"train": train, "eval": evaluation}
    path = ROOT / "results" / f"check_num_samples_{case}.pt"
    if not path.is_file():
        raise SystemExit(
            f"{path} is missing: run reproduction/check_num_samples.py "
            f"--initial-per-class {case} first"
        )
    return torch.load(path)


def _timed(method: str, pair: dict, dtype: str, num_samples: int):
    """(seconds, result) of one greedy call at b = 10."""
    options = {
        "num_samples": num_samples,
        "generator": torch.Generator().manual_seed(0),
        "dtype": getattr(torch, dtype),
    }
    start = time.perf_counter()
    if method == "batchbald":
        result = batchbald(pair["train"], 10, **options)
    else:
        result = batch_evaluation_bald(pair["train"], pair["eval"], 10, **options)
    return time.perf_counter() - start, result


if __name__ == "__main__":
    raise SystemExit(main())
