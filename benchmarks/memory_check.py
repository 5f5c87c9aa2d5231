"""Extra peak memory of one BatchBALD call for a given pool size and memory budget.

    .venv/bin/python benchmarks/memory_check.py N BUDGET_BYTES [K C M B]

Builds the benchmark's synthetic pool ``[N, K, C]`` (default K = 100, C = 10; M = 10,000,
b = 10), resets the process's peak resident set size (Linux ``clear_refs``), runs one call with
``max_memory_bytes = BUDGET_BYTES`` and prints the growth of the peak (VmHWM) beyond the
resident size before the call: the call's own temporaries. ``THREADS`` (default 2) sets torch's
threads; ``METHOD=bald`` measures the registry's BALD top-b instead (no budget argument used).
Peak RSS is noisy on this machine (allocator arenas per thread, proactive reclaim): repeat it.
"""

from __future__ import annotations

import os
import sys
import warnings

import torch

from batchbald.acquisition import batchbald, get_acquirer
from common import CASES, reset_peak_rss, status_kib, synthetic_log_probs


def main() -> None:
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))  # 2: as the acquisition benchmark
    warnings.simplefilter("ignore")
    num_points, budget = int(sys.argv[1]), int(sys.argv[2])
    k, c, m, b = (int(v) for v in (sys.argv[3:7] if len(sys.argv) > 3 else (100, 10, 10_000, 10)))
    case = CASES["1"].__class__("memory", "memory check", "batchbald", num_points, k, c, b, m)
    log_probs = synthetic_log_probs(case)
    if os.environ.get("METHOD", "batchbald") == "bald":
        acquirer = get_acquirer("bald")

        def call(pool: torch.Tensor, batch_size: int, **_: object) -> None:
            acquirer(pool, batch_size)
    else:

        def call(pool: torch.Tensor, batch_size: int, **kwargs: object) -> None:
            batchbald(pool, batch_size, num_samples=m, **kwargs)

    # Warm-up on a small pool: code pages and thread pools are not the call's memory.
    call(log_probs[:300], 4, generator=torch.Generator().manual_seed(1))
    float(log_probs.sum())  # fault the input in (proactive reclaim may have paged it out)
    before = reset_peak_rss()
    call(log_probs, b, generator=torch.Generator().manual_seed(1), max_memory_bytes=budget)
    extra = status_kib("VmHWM") - before
    print(
        f"{os.environ.get('METHOD', 'batchbald')}: N = {num_points}, K = {k}, C = {c}, M = {m}, "
        f"b = {b}, budget {budget / 2**20:.0f} MiB: "
        f"extra peak {extra / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
