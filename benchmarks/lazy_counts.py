"""How many candidates BatchBALD scores exactly per greedy step, with and without the coarse
bounds, on a case of ``acquisition.py`` (same synthetic pool). Also times both and checks that
the picks agree.

    .venv/bin/python benchmarks/lazy_counts.py [CASE]      # default: case 1
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings

import torch

from acquisition import CASES, synthetic_log_probs

# The module, not the function of the same name that the package exports.
bb = importlib.import_module("batchbald.acquisition.batchbald")


def run(case, log_probs: torch.Tensor, coarse: bool) -> tuple[list[int], dict[int, int], float]:
    """Picks, exactly scored candidates per number of configuration rows, seconds."""
    counts: dict[int, int] = {}
    original = bb._GainScorer.__call__

    def counting(scorer, candidates):
        if scorer.space is scorer.spaces.fine:  # exact gains, not bounds
            counts[scorer.num_rows] = counts.get(scorer.num_rows, 0) + len(candidates)
        return original(scorer, candidates)

    saved_ratio = bb.COARSEN_MIN_RATIO
    bb._GainScorer.__call__ = counting
    bb.COARSEN_MIN_RATIO = saved_ratio if coarse else 10**12
    try:
        start = time.perf_counter()
        result = bb.batchbald(
            log_probs, case.b, num_samples=case.M, generator=torch.Generator().manual_seed(0)
        )
        seconds = time.perf_counter() - start
    finally:
        bb._GainScorer.__call__ = original
        bb.COARSEN_MIN_RATIO = saved_ratio
    return result.indices.tolist(), counts, seconds


def main() -> None:
    warnings.simplefilter("ignore")
    torch.set_num_threads(2)
    case = CASES[sys.argv[1] if len(sys.argv) > 1 else "1"]
    log_probs = synthetic_log_probs(case)
    print(f"case {case.key}: N={case.N} K={case.K} C={case.C} b={case.b} M={case.M}")
    picks = {}
    for coarse in (False, True):
        picks[coarse], counts, seconds = run(case, log_probs, coarse)
        label = "with coarse bounds" if coarse else "last gains only   "
        steps = ", ".join(f"{rows}: {n}" for rows, n in counts.items())
        print(f"{label} {seconds:6.2f} s; exactly scored per step (rows: candidates): {steps}")
    print("same picks:", picks[False] == picks[True])


if __name__ == "__main__":
    main()
