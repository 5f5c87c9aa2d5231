"""Pool scoring through a last-layer posterior vs K full network passes (issue 22).

ResNet-18 (random init, eval mode) on 32×32 RGB inputs, K = 20 posterior samples. Side by side
in one process, on the same inputs, median of ``--repeats`` runs each:

* ``full_k``: the whole network for every (input, sample) pair: ``consistent_mc_dropout`` with
  head dropout and ``share_prefix=False`` (what K full passes cost);
* ``shared_prefix``: the same generic wrapper with its deterministic prefix run once per input;
* ``last_layer_cold``: ``LastLayerModel`` with a dropout head and an empty feature cache (one
  backbone pass per input, then K head samples);
* ``last_layer_warm``: the same with the features already cached (a later loop step over the same
  frozen backbone: content hashes of the inputs, then K head samples).

The K-pass, shared-prefix and cold paths are timed on ``--subset`` inputs and extrapolated
linearly to ``--pool`` (their cost is linear in the number of inputs: fixed-size chunks); the
cold path is also run once on the full pool (filling the cache; the headline ratio uses this
measured run, since the cold path's fixed cost, hashing the backbone's weights once, would be
over-counted by extrapolation), and the warm path on the full pool. Times are process CPU
seconds (medians), wall seconds are recorded beside them. The K-pass
and last-layer log-probabilities are checked to agree.

Run (results in docs/performance.md):
    .venv/bin/python benchmarks/last_layer.py --out benchmarks/results/last_layer_<date>.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import torch

from batchbald.models import (
    DropoutHead,
    FeatureCache,
    LastLayerModel,
    ResNet18,
    consistent_mc_dropout,
    predict_log_probs,
)
from batchbald.models.last_layer import split_last_linear


def _median_time(fn: Callable[[], object], repeats: int) -> tuple[float, dict, object]:
    """Median process CPU seconds (the primary number: the machine is shared, so wall time
    mostly measures other users' load), with every run's CPU and wall seconds."""
    cpu, wall, result = [], [], None
    for _ in range(repeats):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return statistics.median(cpu), {"cpu_s": cpu, "wall_s": wall}, result


def _models(p: float) -> tuple:
    net = ResNet18(10, generator=torch.Generator().manual_seed(0)).eval()
    full = consistent_mc_dropout(net, head_dropout=p, share_prefix=False)
    shared = consistent_mc_dropout(net, head_dropout=p)
    backbone, linear = split_last_linear(net)
    return full, shared, backbone, DropoutHead(linear, p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=60_000)
    parser.add_argument("--subset", type=int, default=512)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (1: CPU "
        "time then counts no spin-waiting of idle worker threads)",
    )
    parser.add_argument("--out", default=None, help="write the raw results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pool = torch.randn(args.pool, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    subset = pool[: args.subset]
    full, shared, backbone, head = _models(0.5)

    def score(model, inputs):
        return predict_log_probs(model, inputs, args.k, generator=torch.Generator().manual_seed(2))

    cold_caches = []

    def cold():
        cold_caches.append(FeatureCache())
        return score(LastLayerModel(backbone, head, cold_caches[-1]), subset)

    results = {}
    for name, fn in (
        ("full_k", lambda: score(full, subset)),
        ("shared_prefix", lambda: score(shared, subset)),
        ("last_layer_cold", cold),
    ):
        median, times, out = _median_time(fn, args.repeats)
        results[name] = {**times, "median_subset_cpu_s": median,
                         "extrapolated_pool_cpu_s": median * args.pool / args.subset}  # fmt: skip
        results[name]["log_probs"] = out
    same = torch.allclose(results["full_k"]["log_probs"], results["last_layer_cold"]["log_probs"],
                          atol=1e-5)  # fmt: skip
    warm_cache = FeatureCache()
    warm_model = LastLayerModel(backbone, head, warm_cache)
    # Fills the cache: one backbone pass over the whole pool (measured, not extrapolated).
    fill_s, fill_times, _ = _median_time(lambda: score(warm_model, pool), 1)
    median, times, _ = _median_time(lambda: score(warm_model, pool), args.repeats)
    results["last_layer_warm"] = {**times, "median_pool_cpu_s": median}
    for entry in results.values():
        entry.pop("log_probs", None)
    full_pool = results["full_k"]["extrapolated_pool_cpu_s"]
    summary = {
        "pool": args.pool, "subset": args.subset, "k": args.k, "repeats": args.repeats,
        "threads": args.threads, "torch": torch.__version__, "machine": platform.machine(),
        "same_log_probs_full_vs_last_layer": same,
        "last_layer_cold_full_pool": {**fill_times, "cpu_s_measured": fill_s},
        "results": results,
        "speedup_cold_vs_full_k": full_pool / fill_s,
        "speedup_cold_subset_extrapolated_vs_full_k": full_pool
        / results["last_layer_cold"]["extrapolated_pool_cpu_s"],
        "speedup_warm_vs_full_k": full_pool / median,
        "speedup_shared_prefix_vs_full_k": full_pool
        / results["shared_prefix"]["extrapolated_pool_cpu_s"],
    }  # fmt: skip
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
