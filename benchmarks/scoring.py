"""Pool-scoring and training-time benchmark for the paper's MNIST CNN (issue 4).

Scoring the pool (k = 100 consistent MC-dropout masks × ≈59,000 MNIST images) dominates each
step of the paper's loop. This script times, side by side in one process on the same trained
model and the same masks:

* ``straightforward``: the whole network for every (image, mask) pair (images repeated K times);
* ``generic``: ``BayesianModule.forward`` (deterministic conv1 once per image, the rest K times);
* ``fast``: ``predict_log_probs``'s exact fast path (``MNISTBayesianCNN.scoring_log_probs``),

on a subsample (median of ``--repeats`` runs), then the fast path on the full pool, and one
``train_model`` per labelled-set size in ``--train-sizes`` with the paper's regime.

Run (results in docs/benchmarks/scoring.md):
    .venv/bin/python benchmarks/scoring.py
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from batchbald.data import ImageData
from batchbald.models import MNISTBayesianCNN, predict_log_probs, prepared_masks
from batchbald.training import TrainingConfig, train_model

# docs/protocol.md §1: the 20 initial MNIST indices used by every BatchBALD trial.
INITIAL = [38043, 40091, 17418, 2094, 39879, 3133, 5011, 40683, 54379, 24287,
           9849, 59305, 39508, 39356, 8758, 52579, 13655, 7636, 21562, 41329]  # fmt: skip
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def load_mnist_train(directory: Path) -> ImageData:
    """The 60,000 MNIST training images, normalised with mean 0.1307 and std 0.3081."""
    raw = gzip.open(directory / "train-images-idx3-ubyte.gz").read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 1, 28, 28)
    labels = np.frombuffer(
        gzip.open(directory / "train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8
    )
    inputs = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.1307) / 0.3081
    return ImageData(inputs, torch.from_numpy(labels.astype(np.int64)), 10)


def straightforward(model: MNISTBayesianCNN, inputs: torch.Tensor, k: int) -> torch.Tensor:
    """The whole network once per (image, mask): images repeated K times, masks broadcast."""
    # [B, 1, 28, 28] -> [B·K, 1, 28, 28], sample index fastest (the dropout layers' layout).
    repeated = inputs.repeat_interleave(k, dim=0)
    return model.stochastic(model.deterministic(repeated), k, generator=None).view(-1, k, 10)


def chunked(fn: Callable, model, inputs: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat(
            [fn(model, inputs[i : i + chunk], k) for i in range(0, len(inputs), chunk)]
        )


def timed(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def time_subsample(model, subsample: torch.Tensor, k: int, repeats: int, seed: int) -> dict:
    # Each path at its default memory-bounded chunk: 4096 (image, mask) rows for the layer-by-layer
    # paths (their conv1 output alone is 300 MB), model.scoring_rows_per_chunk for the fast one.
    chunk = max(1, 4096 // k)
    fast_chunk = max(1, model.scoring_rows_per_chunk // k)
    paths = {
        "straightforward": lambda: chunked(straightforward, model, subsample, k, chunk),
        "generic": lambda: chunked(lambda m, x, kk: m(x, kk), model, subsample, k, chunk),
        "fast": lambda: chunked(
            lambda m, x, kk: m.scoring_log_probs(x, kk), model, subsample, k, fast_chunk
        ),
    }
    runs: dict[str, list] = {name: [] for name in paths}
    with prepared_masks(model, k, generator=torch.Generator().manual_seed(seed)):
        # Interleaved, so that every path sees the same (shared, fluctuating) machine load.
        for _ in range(repeats):
            for name, run in paths.items():
                runs[name].append(timed(run))
    return {
        name: (
            timings[0][0],
            statistics.median(t[1] for t in timings),
            statistics.median(t[2] for t in timings),
        )
        for name, timings in runs.items()
    }


def report_training(data: ImageData, pool_order: torch.Tensor, sizes: list[int], seed: int):
    validation = data.subset(pool_order[:1024])
    trained = None
    print(
        "\n## Training time per step "
        "(paper regime: TrainingConfig() defaults, dropout-off validation)"
    )
    print("| labelled | epochs | best epoch | best val acc | wall s | s/epoch |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        indices = torch.cat([torch.tensor(INITIAL), pool_order[1024 : 1024 + size - len(INITIAL)]])
        model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(seed))
        result = train_model(
            model,
            data.subset(indices),
            validation,
            TrainingConfig(),
            generator=torch.Generator().manual_seed(seed + 1),
        )
        print(
            f"| {size} | {result.epochs_trained} | {result.best_epoch} | "
            f"{result.best_metric:.4f} | {result.wall_time_s:.1f} | "
            f"{result.wall_time_s / result.epochs_trained:.2f} |",
            flush=True,
        )
        if trained is None:
            trained = result.model
    return trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--subsample", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pool-size", type=int, default=None, help="default: the whole pool")
    parser.add_argument("--train-sizes", type=int, nargs="*", default=[20, 100])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, k = {args.k}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )

    data = load_mnist_train(args.data_dir)
    rest = torch.ones(len(data), dtype=torch.bool)
    rest[INITIAL] = False
    order = torch.nonzero(rest).flatten()
    order = order[torch.randperm(len(order), generator=torch.Generator().manual_seed(args.seed))]
    pool = order[1024:]  # docs/protocol.md §1: 1,024 random validation points; the rest: pool

    model = report_training(data, order, args.train_sizes, args.seed)
    if model is None:
        model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(args.seed)).eval()

    subsample = data.inputs[pool[: args.subsample]]
    print(f"\nload average before scoring: {os.getloadavg()[0]:.1f}")
    results = time_subsample(model, subsample, args.k, args.repeats, args.seed + 2)
    reference, ref_wall, ref_cpu = results["straightforward"]
    print(
        f"\n## Scoring {args.subsample} pool images × k = {args.k} "
        f"(median of {args.repeats}, interleaved; load now {os.getloadavg()[0]:.1f})"
    )
    print(
        "| path | wall s | image-samples/s | speed-up (wall) | CPU s | speed-up (CPU) "
        "| max abs diff vs straightforward |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (out, wall, cpu) in results.items():
        rate = args.subsample * args.k / wall
        diff = (out - reference).abs().max().item()
        print(
            f"| {name} | {wall:.2f} | {rate:,.0f} | {ref_wall / wall:.1f}× | {cpu:.2f} | "
            f"{ref_cpu / cpu:.1f}× | {diff:.2e} |",
            flush=True,
        )

    # predict_log_probs must give the same result for any chunk size (bitwise, see MIN_ROWS).
    probe = subsample[:64]
    by_size = [
        predict_log_probs(
            model,
            probe,
            args.k,
            batch_size=size,
            generator=torch.Generator().manual_seed(args.seed + 2),
        )
        for size in (1, 7, 64)
    ]
    same = all(torch.equal(by_size[0], other) for other in by_size[1:])
    print(f"\npredict_log_probs, 64 images, batch sizes 1/7/64 bitwise identical: {same}")
    fast_vs_ref = (by_size[0] - reference[:64]).abs().max().item()
    print(f"predict_log_probs vs straightforward (same generator): max |Δ| = {fast_vs_ref:.2e}")

    full = pool if args.pool_size is None else pool[: args.pool_size]
    inputs = data.inputs[full]
    log_probs, wall, cpu = timed(
        lambda: predict_log_probs(
            model, inputs, args.k, generator=torch.Generator().manual_seed(args.seed + 2)
        )
    )
    rate = len(full) * args.k / wall
    print(
        f"\n## Fast path, full pool: {len(full):,} images × k = {args.k} "
        f"-> {tuple(log_probs.shape)}"
    )
    print(
        f"wall {wall:.1f} s ({wall / 60:.2f} min), CPU {cpu:.1f} s, {rate:,.0f} image-samples/s "
        f"(load average after: {os.getloadavg()[0]:.1f})"
    )
    print(
        f"straightforward at its subsample rate would take "
        f"{len(full) * ref_wall / args.subsample / 60:.1f} min"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
