"""Pool-scoring throughput of the MNIST CNN into a store: local process vs Ray tasks (issue 23).

    python benchmarks/scale_scoring.py --n 4096 --k 20 --workers 2 \
        --out benchmarks/results/scale_scoring.json

Scores the same pool (random 28×28 inputs: throughput does not depend on the pixels or weights)
with the same K masks three ways: ``predict_log_probs`` on the whole pool, ``score_to_store``
locally, and ``score_to_store`` as Ray tasks on a local Ray instance with ``--workers`` CPUs
(or ``--ray-address``). Reports images per second for each (Ray start-up timed separately) and
checks that the two stores hold the same bytes as the in-memory result.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from batchbald.models import build_model, predict_log_probs
from batchbald.scale.scoring import score_to_store


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--shard-rows", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    model = build_model("mnist_cnn", 10, generator=torch.Generator().manual_seed(0)).eval()
    inputs = torch.randn(args.n, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    record: dict = {"command": " ".join(os.sys.argv), "n": args.n, "k": args.k}
    record["threads"] = torch.get_num_threads()
    reference, seconds = _timed(
        lambda: predict_log_probs(model, inputs, args.k, generator=torch.Generator().manual_seed(2))
    )
    record["in_memory_images_per_s"] = args.n / seconds
    with tempfile.TemporaryDirectory() as scratch:
        local, seconds = _timed(
            lambda: score_to_store(
                model, inputs, args.k, Path(scratch) / "local",
                generator=torch.Generator().manual_seed(2), shard_rows=args.shard_rows,
            )
        )  # fmt: skip
        record["local_store_images_per_s"] = args.n / seconds
        record["local_identical"] = bool(
            np.array_equal(local.take(np.arange(args.n)).numpy(), reference.numpy())
        )
        try:
            from batchbald.scale import ray_jobs

            _, record["ray_start_s"] = _timed(
                lambda: ray_jobs.connect(args.ray_address, args.workers)
            )
            remote, seconds = _timed(
                lambda: score_to_store(
                    model, inputs, args.k, Path(scratch) / "ray", use_ray=True,
                    ray_address=args.ray_address, workers=args.workers,
                    generator=torch.Generator().manual_seed(2), shard_rows=args.shard_rows,
                )
            )  # fmt: skip
            record["ray_images_per_s"] = args.n / seconds
            record["ray_identical"] = bool(
                np.array_equal(remote.take(np.arange(args.n)).numpy(), reference.numpy())
            )
        except Exception as error:
            record["ray_error"] = f"{type(error).__name__}: {error}"
    record["load_average_at_end"] = os.getloadavg()
    print(json.dumps(record, indent=1))
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
