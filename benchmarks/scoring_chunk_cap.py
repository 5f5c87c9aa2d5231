"""The MNIST CNN's scoring chunk: at most 12 inputs per chunk against the 1,024-row default.

Scores N random 28×28 inputs with K consistent MC-dropout samples, alternating the capped
default (``batch_size=None``: 12 inputs at K = 20) and the previous default (1,024 // K inputs),
``--repeats`` times each, in one process with torch's default threads, and prints wall and CPU
seconds with the median ratio. Results are bitwise equal (checked on the first 256 inputs).

    .venv/bin/python benchmarks/scoring_chunk_cap.py [--n 60000] [--k 20] [--repeats 2] [--out F]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from batchbald.models import MNISTBayesianCNN, predict_log_probs


def _time(model: MNISTBayesianCNN, inputs: torch.Tensor, k: int, size: int | None) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    predict_log_probs(model, inputs, k, batch_size=size, generator=torch.Generator().manual_seed(1))
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args()
    model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(0)).eval()
    inputs = torch.randn(args.n, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    previous = max(1, 1024 // args.k)
    same = [
        predict_log_probs(
            model, inputs[:256], args.k, batch_size=size, generator=torch.Generator().manual_seed(1)
        )
        for size in (None, previous)
    ]
    assert torch.equal(*same), "chunking changed the results"
    runs: dict[str, list[dict]] = {"capped": [], "previous": []}
    for _ in range(args.repeats):
        for name, size in (("previous", previous), ("capped", None)):
            runs[name].append(_time(model, inputs, args.k, size))
            print(name, {key: round(value, 1) for key, value in runs[name][-1].items()}, flush=True)
    ratio = {
        key: statistics.median(r[key] for r in runs["previous"])
        / statistics.median(r[key] for r in runs["capped"])
        for key in ("wall_s", "cpu_s")
    }
    print(f"previous / capped (medians): wall {ratio['wall_s']:.2f}x, CPU {ratio['cpu_s']:.2f}x")
    if args.out:
        payload = {"command": "benchmarks/scoring_chunk_cap.py", "n": args.n, "k": args.k,
                   "previous_inputs_per_chunk": previous, "runs": runs, "ratio": ratio,
                   "load": os.getloadavg(), "threads": torch.get_num_threads()}  # fmt: skip
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1)


if __name__ == "__main__":
    main()
