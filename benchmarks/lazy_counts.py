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
from batchbald.acquisition import joint_entropy as je

# The module, not the function of the same name that the package exports.
bb = importlib.import_module("batchbald.acquisition.batchbald")


def run(case, log_probs: torch.Tensor, coarse: bool) -> tuple[list[int], dict[int, int], float]:
    """Picks, exactly scored candidates per number of configuration rows, seconds."""
    counts: dict[int, int] = {}
    original = je.conditional_entropy_sums_at

    def counting(posterior_M_K, weights_M, log_probs_N_K_C, candidates, *args, **kwargs):
        if posterior_M_K.dtype != bb.COARSE_DTYPE:  # exact gains, not bounds
            rows = posterior_M_K.shape[0]
            counts[rows] = counts.get(rows, 0) + len(candidates)
        return original(posterior_M_K, weights_M, log_probs_N_K_C, candidates, *args, **kwargs)

    saved_ratio = bb.COARSEN_MIN_RATIO
    je.conditional_entropy_sums_at = counting
    bb.COARSEN_MIN_RATIO = saved_ratio if coarse else 10**12
    try:
        start = time.perf_counter()
        result = bb.batchbald(
            log_probs, case.b, num_samples=case.M, generator=torch.Generator().manual_seed(0)
        )
        seconds = time.perf_counter() - start
    finally:
        je.conditional_entropy_sums_at = original
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
