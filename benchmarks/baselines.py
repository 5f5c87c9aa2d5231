"""Per-step acquisition time of the baselines (issue 24) next to BALD and BatchBALD.

Times one call (b = 10) of ``epig``, ``power_epig``, ``badge`` and ``coreset`` next to top-b
``bald`` and greedy ``batchbald`` on a synthetic pool of the real MNIST sizes: N = 59,000 points
(MNIST's 60,000 minus the validation and initial sets), C = 10 classes, embedding dimension
D = 128 (MNISTBayesianCNN.embed), K = 20 and K = 100 posterior samples. The log-probabilities are
the deterministic MC-dropout-like pool of ``benchmarks/common.py`` (near-duplicates
included); the features are ReLU of Gaussian noise (non-negative, like the CNN's). They are
synthetic: the timings depend only on the sizes, not on what a trained CNN would output.

BatchEPIG is not timed on the full pool: its step costs O(N · T · M · K · C²) (6·10¹³
multiply-adds at N = 59k, T = 100, M = 1,000, K = 100), hours per step. It is timed on the first
1,000 points of the K = 20 pool with T = 20 targets and M = 100 labellings; its cost scales
linearly in N, T and M.

Methods run round-robin (a change in background load hits every method alike); medians of
``--repeats`` calls; ratios are to top-b ``bald`` at the same K, measured in the same run.

    .venv/bin/python benchmarks/baselines.py --quick                 # smoke-test sizes
    nice -n 10 .venv/bin/python benchmarks/baselines.py --out benchmarks/results/baselines.json

See ``docs/performance.md`` (Baselines section).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

from batchbald.acquisition import get_acquirer
from common import Case, machine_facts, synthetic_log_probs, write_json

# name, registry acquirer, parameters, K values it is timed at
METHODS = (
    ("bald", "bald", {}, (20, 100)),
    ("epig", "epig", {"num_target_samples": 100}, (20, 100)),
    ("epig float32", "epig", {"num_target_samples": 100, "dtype": "float32"}, (20, 100)),
    ("power_epig", "power_epig", {"num_target_samples": 100}, (20, 100)),
    ("badge", "badge", {}, (20, 100)),
    ("coreset", "coreset", {}, (20,)),
    ("batchbald", "batchbald", {"num_samples": 10_000}, (100,)),
)
BATCH_EPIG_POOL = 1_000


def features(num_points: int, dim: int, seed: int) -> torch.Tensor:
    """ReLU(N(0, 1)) features ``[N, D]`` (float32), deterministic in ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(num_points, dim, generator=generator).relu_()


def time_call(acquirer, log_probs, batch_size, inputs) -> float:
    """Seconds for one acquisition call (a fresh generator per call, as the loop passes)."""
    synchronise = torch.cuda.synchronize if log_probs.is_cuda else (lambda: None)
    synchronise()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acquirer(log_probs, batch_size, generator=torch.Generator().manual_seed(0), **inputs)
    synchronise()
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> dict:
    """Time every method round-robin ``args.repeats`` times; returns the saved result."""
    device = torch.device(args.device)
    pools = {
        k: synthetic_log_probs(Case("b", "", "", args.N, k, 10, 10)).to(device) for k in (20, 100)
    }
    embedding = {
        "embeddings_N_D": features(args.N, args.D, 1).to(device),
        "labelled_embeddings_L_D": features(args.L, args.D, 2).to(device),
    }
    jobs = [(f"{name} K={k}", get_acquirer(acq, **params), pools[k],
             embedding if get_acquirer(acq).needs_embeddings else {})
            for name, acq, params, ks in METHODS for k in ks]  # fmt: skip
    small = pools[20][: args.batch_epig_pool]
    batch_epig = get_acquirer("batch_epig", num_target_samples=20, num_samples=100)
    jobs.append((f"batch_epig K=20 N={len(small)} T=20 M=100", batch_epig, small, {}))
    times: dict[str, list[float]] = {label: [] for label, *_ in jobs}
    for repeat in range(args.repeats):
        for label, acquirer, log_probs, inputs in jobs:
            if repeat and label.startswith(("batchbald", "batch_epig")) and args.greedy_once:
                continue
            times[label].append(time_call(acquirer, log_probs, 10, inputs))
            print(f"repeat {repeat}: {label}: {times[label][-1]:.3f} s", flush=True)
        save(args, times, complete=repeat + 1 == args.repeats)  # a partial run keeps its data
    return save(args, times, complete=True)


def save(args: argparse.Namespace, times: dict[str, list[float]], *, complete: bool) -> dict:
    """The result so far (medians of the calls made), written to ``--out`` when given."""
    medians = {label: statistics.median(values) for label, values in times.items() if values}
    device = torch.device(args.device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    facts = {**machine_facts(), "threads": torch.get_num_threads(), "gpu": gpu}
    result = {
        "sizes": {key: str(value) for key, value in vars(args).items()},
        "command": " ".join(sys.argv),
        "complete": complete,
        "times_s": times,
        "median_s": medians,
        **facts,
    }
    if args.out:
        write_json(args.out, result)
    return result


def table(result: dict) -> str:
    """Markdown rows: method, median seconds, ratio to top-b BALD at the same K."""
    medians = result["median_s"]
    rows = ["| method (b = 10) | median s | × BALD (same K) | calls |", "|---|---|---|---|"]
    for label, seconds in medians.items():
        if f"bald K={label.split('K=')[1].split()[0]}" not in medians:
            continue
        k = label.split("K=")[1].split()[0]
        ratio = seconds / medians[f"bald K={k}"]
        calls = len(result["times_s"][label])
        rows.append(f"| {label} | {seconds:.3f} | {ratio:.1f} | {calls} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (N = 2,000)")
    parser.add_argument("--N", type=int, default=59_000, help="pool size")
    parser.add_argument("--D", type=int, default=128, help="embedding dimension")
    parser.add_argument("--L", type=int, default=300, help="labelled points (coreset centres)")
    parser.add_argument("--repeats", type=int, default=5, help="calls per method")
    parser.add_argument("--greedy-once", action="store_true", help="one call of the greedy rules")
    parser.add_argument("--batch-epig-pool", type=int, default=BATCH_EPIG_POOL)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--device", default="cpu", help="where the tensors live (cpu, cuda)")
    parser.add_argument("--out", type=Path, default=None, help="write the raw JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.N, args.repeats, args.batch_epig_pool = 1_000, 2, 200
    if args.threads:
        torch.set_num_threads(args.threads)
    print(table(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
