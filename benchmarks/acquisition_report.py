"""Benchmark of the report's acquirers (issue 3): stochastic selection and BatchEvaluationBALD.

Everything runs in one process, methods interleaved repeat by repeat, so the ratios compare
runs made side by side on the same (shared, noisy) machine; the table shows medians.

    .venv/bin/python benchmarks/acquisition_report.py                # the issue's sizes
    .venv/bin/python benchmarks/acquisition_report.py --quick        # small sizes, a smoke test
    .venv/bin/python benchmarks/acquisition_report.py --threads 1 --repeats 5 --json out.json

Targets (issue 3): stochastic selection over N = 1,000,000 scores with b = 100 in < 0.5 s;
BatchEvaluationBALD with b = 10 on N = 10,000, K = 100, C = 10, M = 10,000 in ≤ 2.5× the time of
the core's BatchBALD on the same input. Results: docs/benchmarks/acquisition_report.md.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from batchbald.acquisition import batchbald, top_k
from batchbald.acquisition.evaluation import batch_eig, batch_evaluation_bald
from batchbald.acquisition.greedy import gains
from batchbald.acquisition.stochastic import stochastic_batch


def model_pair(
    num_points: int,
    num_samples: int,
    num_classes: int,
    *,
    seed: int = 0,
    features: int = 64,
    dampings: tuple[float, float] = (0.4, 0.25),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic MC-dropout-like log-probs ``[N, K, C]`` of a training and an evaluation model.

    A linear head on D features; posterior sample k scales the features by a shared dropout-like
    mask 1 ± d (d = 0.4 for the training model by default). Every point has a log-normal
    sharpness, so some are confident and some ambiguous; points come in near-duplicate pairs
    (Repeated-MNIST-like). The evaluation model (trained on more data) is the same head, 20%
    sharper, with damped masks (d = 0.25 by default): less epistemic uncertainty on most points,
    as self-distillation on the pool gives. Smaller dampings give smaller BALD scores (a less
    saturated joint MI).
    """
    gen = torch.Generator().manual_seed(seed)
    num_base = math.ceil(num_points / 2)
    features_N_D = torch.randn(num_base, features, generator=gen).repeat(2, 1)[:num_points]
    features_N_D += 0.05 * torch.randn(num_points, features, generator=gen)
    sharpness_N = 4.0 * torch.exp(0.75 * torch.randn(num_base, generator=gen)).repeat(2)
    weight_D_C = torch.randn(features, num_classes, generator=gen) / math.sqrt(features)
    signs_K_D = 2.0 * (torch.rand(num_samples, features, generator=gen) >= 0.5).float() - 1.0
    pair = []
    for damping, sharpen in zip(dampings, (1.0, 1.2), strict=True):
        # [N, 1, D] * [1, K, D] -> [N, K, D] @ [D, C] -> [N, K, C]
        logits = (features_N_D[:, None, :] * (1.0 + damping * signs_K_D)[None]) @ weight_D_C
        scale_N = sharpen * sharpness_N[:num_points, None, None]
        pair.append(torch.log_softmax(scale_N * logits, dim=-1))
    return pair[0], pair[1]


class CandidateCounter:
    """Counts candidates scored exactly by the greedy engine (``greedy.gains``; both methods)."""

    def __init__(self) -> None:
        self.count = 0
        self._original = gains.conditional_entropy_sums

    def __enter__(self) -> CandidateCounter:
        def counting(posterior_M_K, weights_M, log_probs_N_K_C, chunk_size, *args, **kwargs):
            self.count += log_probs_N_K_C.shape[0]
            return self._original(
                posterior_M_K, weights_M, log_probs_N_K_C, chunk_size, *args, **kwargs
            )

        gains.conditional_entropy_sums = counting
        return self

    def __exit__(self, *exc: Any) -> None:
        gains.conditional_entropy_sums = self._original


def interleaved(methods: dict[str, Callable[[int], Any]], repeats: int) -> dict[str, dict]:
    """Run every method once per repeat, in turn; return median/min seconds and extras."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    extras: dict[str, Any] = {}
    for repeat in range(repeats):
        for name, method in methods.items():
            with CandidateCounter() as counter:
                start = time.perf_counter()
                result = method(repeat)
                times[name].append(time.perf_counter() - start)
            extras[name] = {"candidates_scored": counter.count, "result": result}
    return {
        name: {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "times_s": values,
            **extras[name],
        }
        for name, values in times.items()
    }


def bench_stochastic(num_points: int, batch_size: int, repeats: int) -> dict[str, dict]:
    scores_N = torch.rand(num_points, generator=torch.Generator().manual_seed(1)).double()
    methods: dict[str, Callable[[int], Any]] = {"top_k": lambda r: top_k(scores_N, batch_size)}
    for mode in ("power", "softmax", "softrank"):
        methods[mode] = lambda r, mode=mode: stochastic_batch(
            scores_N, batch_size, mode=mode, coldness=8.0,
            generator=torch.Generator().manual_seed(r),
        )  # fmt: skip
    out = interleaved(methods, repeats)
    for entry in out.values():
        entry.pop("result")
    return out


def bench_greedy(args: argparse.Namespace) -> dict[str, dict]:
    train, evaluation = model_pair(args.N, args.K, args.C, dampings=tuple(args.dampings))
    kwargs = {"num_samples": args.M}

    def gen(repeat: int) -> torch.Generator:
        return torch.Generator().manual_seed(100 + repeat)

    methods: dict[str, Callable[[int], Any]] = {
        "batchbald": lambda r: batchbald(train, args.b, generator=gen(r), **kwargs),
        "batch_evaluation_bald": lambda r: batch_evaluation_bald(
            train, evaluation, args.b, generator=gen(r), **kwargs
        ),
        "batch_eig": lambda r: batch_eig(train, evaluation, args.b, generator=gen(r), **kwargs),
    }
    if args.full_greedy:
        methods["batch_evaluation_bald lazy=False"] = lambda r: batch_evaluation_bald(
            train, evaluation, args.b, generator=gen(r), lazy=False, **kwargs
        )
    out = interleaved(methods, args.repeats)
    for entry in out.values():
        result = entry.pop("result")
        entry["indices"] = result.indices.tolist()
        entry["final_score"] = float(result.scores[-1])
    base = out["batchbald"]["median_s"]
    for entry in out.values():
        entry["ratio_to_batchbald"] = entry["median_s"] / base
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--N", type=int, default=10_000)
    parser.add_argument("--K", type=int, default=100)
    parser.add_argument("--C", type=int, default=10)
    parser.add_argument("--b", type=int, default=10)
    parser.add_argument("--M", type=int, default=10_000)
    parser.add_argument("--stochastic-N", type=int, default=1_000_000)
    parser.add_argument("--stochastic-b", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--dampings", type=float, nargs=2, default=[0.4, 0.25], help="train and eval mask damping"
    )
    parser.add_argument("--skip-stochastic", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--full-greedy", action="store_true", help="also time lazy=False")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.N, args.K, args.M, args.stochastic_N = 2_000, 20, 1_000, 100_000
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.platform(),
        "args": vars(args),
        "stochastic": {}
        if args.skip_stochastic
        else bench_stochastic(args.stochastic_N, args.stochastic_b, max(args.repeats, 5)),
        "greedy": bench_greedy(args),
    }
    print(f"torch {report['torch']}, {report['threads']} threads, {report['machine']}")
    print(f"\nStochastic selection, N = {args.stochastic_N:,}, b = {args.stochastic_b}")
    for name, entry in report["stochastic"].items():
        median_ms, min_ms = entry["median_s"] * 1e3, entry["min_s"] * 1e3
        print(f"  {name:<10} median {median_ms:8.1f} ms   min {min_ms:8.1f} ms")
    print(f"\nGreedy, N = {args.N:,}, K = {args.K}, C = {args.C}, b = {args.b}, M = {args.M:,}")
    for name, entry in report["greedy"].items():
        print(
            f"  {name:<34} median {entry['median_s']:7.2f} s  ({entry['ratio_to_batchbald']:.2f}×)"
            f"  candidates scored {entry['candidates_scored']:>7,}  final score "
            f"{entry['final_score']:.4f}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
