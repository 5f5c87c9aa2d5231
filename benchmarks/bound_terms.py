"""How much each term of BatchEvaluationBALD's group bound prunes on the real step-3 pools.

Replays the greedy's configurations (b = 10, M = 100,000, float32, the acquisition seed of
``benchmarks/greedy_pools.py``) on a cached pool of ``reproduction/check_num_samples.py`` up to
the given steps, then, for every pairing of the training term's and the evaluation term's group
level (mode groups, 8 and 64 intervals per mode), counts the candidates whose bound is not below
the step's best gain (the gain of the batch's actual pick), with each term's time on all
candidates. The picks come from a first run of the greedy itself.

    .venv/bin/python -W ignore benchmarks/bound_terms.py --case 0 --steps 5 7 9
"""

from __future__ import annotations

import argparse
import time

import torch

from batchbald.acquisition import _evaluation_greedy as engine
from batchbald.acquisition import batch_evaluation_bald
from greedy_pools import _pool  # benchmarks/greedy_pools.py, beside this script

BINS = (1, 8, 64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="0", help="cache suffix <n> (0 or 10)")
    parser.add_argument("--steps", type=int, nargs="+", default=[5, 7, 9])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    pair = _pool(args.case)
    train_lp, eval_lp = pair["train"], pair["eval"]
    dtype, num_samples = torch.float32, 100_000

    def seeded() -> torch.Generator:
        return torch.Generator().manual_seed(0)

    picks = batch_evaluation_bald(
        train_lp, eval_lp, 10, num_samples=num_samples, generator=seeded(), dtype=dtype
    ).indices.tolist()
    print(f"case {args.case}: picks {picks}")
    options = engine.GreedyOptions.checked(num_samples, seeded(), dtype, 2**30, True)
    train, evaluation = (engine._Model.build(lp, 1.0, dtype) for lp in (train_lp, eval_lp))
    floor_N = torch.zeros(train_lp.shape[0], dtype=torch.float64)
    header = "| step | M | candidates | training term (rows, s) | evaluation term (rows, s) |"
    print(header + " in play |")
    print("|---|---|---|---|---|---|")
    for step in range(1, max(args.steps) + 1):
        engine._update_configurations(train, evaluation, picks[:step], step, options)
        if step not in args.steps:
            continue
        taken = set(picks[:step])
        candidates = torch.tensor([c for c in range(train_lp.shape[0]) if c not in taken])
        chosen = torch.tensor([picks[step]])
        best = float(train.gains(chosen, 1) - evaluation.gains(chosen, 1))
        terms = {}
        for bins in BINS:
            bounds = engine._GroupBounds(train, evaluation, floor_N, bins=bins, options=options)
            start = time.perf_counter()
            upper = bounds.train_upper(candidates)
            middle = time.perf_counter()
            lower = bounds.eval_lower(candidates)
            terms[bins] = (upper, lower, bounds.slack, bounds.num_rows, middle - start,
                           time.perf_counter() - middle)  # fmt: skip
        for train_bins in BINS:
            for eval_bins in BINS:
                upper, _, slack, rows, seconds, _ = terms[train_bins]
                _, lower, _, eval_rows, _, eval_seconds = terms[eval_bins]
                alive = int((upper - lower + slack + engine.TIE_TOLERANCE >= best).sum())
                training = f"{train_bins} per mode ({rows}, {seconds:.1f})"
                evaluating = f"{eval_bins} per mode ({eval_rows}, {eval_seconds:.1f})"
                size = f"{train.configs.num_configurations} | {len(candidates)}"
                print(f"| {step} | {size} | {training} | {evaluating} | {alive} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
