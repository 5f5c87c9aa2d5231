"""BatchEvaluationBALD's per-sample entropies: −Σ p·log p from the given log-probabilities
(the library) against ``torch.special.entr(exp(log p))`` (its previous form, a second logarithm).

Times the two on both models of ``benchmarks/acquisition_report.py``'s target case (N = 10,000,
K = 100, C = 10, float32 input), then the whole greedy (b = 10, M = 10,000) with each, interleaved
round-robin with BatchBALD on the same pool, one thread; prints medians, the ratio to BatchBALD
and whether the picks agree.

    .venv/bin/python -W ignore benchmarks/sample_entropies.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from acquisition_report import model_pair  # benchmarks/acquisition_report.py, beside this script
from batchbald.acquisition import _evaluation_greedy, batch_evaluation_bald, batchbald
from batchbald.acquisition._chunks import DEFAULT_CHUNK_ELEMENTS, row_slices


def entr_form(log_probs_N_K_C: torch.Tensor) -> torch.Tensor:
    """The previous implementation: ``entr`` of the exponentiated log-probabilities."""
    num_points, num_samples, num_classes = log_probs_N_K_C.shape
    out = torch.empty(num_points, num_samples, dtype=torch.float64)
    for rows in row_slices(num_points, DEFAULT_CHUNK_ELEMENTS // (num_samples * num_classes)):
        out[rows] = torch.special.entr(log_probs_N_K_C[rows].double().exp()).sum(dim=-1)
    return out


def _timed(fn: Callable[[], object], times: list[float]) -> object:
    """``fn()``, appending its wall time to ``times``."""
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
    return result


def _greedy(name: str, train: torch.Tensor, evaluation: torch.Tensor):
    """One b = 10 call of BatchBALD (``name == "batchbald"``) or BatchEvaluationBALD."""
    generator = torch.Generator().manual_seed(0)
    if name == "batchbald":
        return batchbald(train, 10, num_samples=10_000, generator=generator)
    return batch_evaluation_bald(train, evaluation, 10, num_samples=10_000, generator=generator)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    train, evaluation = model_pair(10_000, 100, 10)
    library = _evaluation_greedy._sample_entropies
    difference = (library(train) - entr_form(train)).abs().max().item()
    kernels: dict[str, list[float]] = {"library": [], "entr": []}
    for _ in range(args.repeats):
        for name, fn in (("library", library), ("entr", entr_form)):
            _timed(lambda fn=fn: (fn(train), fn(evaluation)), kernels[name])
    print(f"per-sample entropies of both models, max |difference| {difference:.1e}")
    for name, times in kernels.items():
        print(f"  {name:8s} median {1e3 * statistics.median(times):7.1f} ms")
    greedy: dict[str, list[float]] = {"batchbald": [], "library": [], "entr": []}
    picks: dict[str, list[int]] = {}
    for _ in range(args.repeats):
        for name in greedy:
            _evaluation_greedy._sample_entropies = entr_form if name == "entr" else library
            result = _timed(lambda name=name: _greedy(name, train, evaluation), greedy[name])
            picks[name] = result.indices.tolist()
    _evaluation_greedy._sample_entropies = library
    reference = statistics.median(greedy["batchbald"])
    print("greedy, b = 10, M = 10,000 (BatchEvaluationBALD with each form)")
    for name, times in greedy.items():
        median = statistics.median(times)
        print(f"  {name:9s} median {median:6.3f} s ({median / reference:.2f}× BatchBALD)")
    print(f"  same picks with both forms: {picks['library'] == picks['entr']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
