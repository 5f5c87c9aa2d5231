"""Extra peak RSS of one BatchBALD call for a given pool size and memory budget.

    .venv/bin/python benchmarks/memory_check.py N BUDGET_BYTES

Prints the growth of the process's peak resident set size (ru_maxrss) during the call, beyond
the random [N, 100, 10] float32 input. One call per process: ru_maxrss never decreases.
"""

from __future__ import annotations

import resource
import sys
import warnings

import torch

from batchbald.acquisition import batchbald


def main() -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    num_points, budget = int(sys.argv[1]), int(sys.argv[2])
    generator = torch.Generator().manual_seed(0)
    log_probs = (2 * torch.randn(num_points, 100, 10, generator=generator)).log_softmax(-1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batchbald(
        log_probs, 6, num_samples=10_000, generator=torch.Generator().manual_seed(1),
        max_memory_bytes=budget,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"N = {num_points}, budget {budget >> 20} MiB: extra peak {(after - before) >> 10} MiB")


if __name__ == "__main__":
    main()
