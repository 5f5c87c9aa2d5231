"""The paper CNN's pool scoring: chunks side by side in threads vs torch's intra-op threads.

``predict_log_probs`` scores a model with ``parallel_chunks`` (the paper CNNs) by
``torch.get_num_threads()`` threads, each scoring whole chunks with one torch thread. The
baseline is the same call with ``parallel_chunks`` off: one chunk at a time, each operation
split across torch's threads. Both score the same N inputs (MNIST training images with
``--data-dir``, else Gaussian noise) with the default chunk, alternating, ``--repeats`` times,
in one process; the script checks the outputs are bitwise equal and prints wall and CPU seconds
with the ratio of medians.

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/scoring_parallel_chunks.py \
        [--n 60000] [--k 20 100] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch

from batchbald.models import MNISTBayesianCNN, predict_log_probs


def _inputs(data_dir: str | None, count: int) -> torch.Tensor:
    if not data_dir:
        return torch.randn(count, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    from batchbald.data import read_idx

    images = read_idx(Path(data_dir) / "mnist" / "train-images-idx3-ubyte.gz")[:count]
    return ((torch.from_numpy(images).float() / 255 - 0.1307) / 0.3081).unsqueeze(1)


def _time(model: MNISTBayesianCNN, inputs: torch.Tensor, k: int, parallel: bool) -> tuple:
    model.parallel_chunks = parallel
    wall, cpu = time.perf_counter(), time.process_time()
    out = predict_log_probs(model, inputs, k, generator=torch.Generator().manual_seed(1))
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}, out


def _compare(model: MNISTBayesianCNN, inputs: torch.Tensor, k: int, repeats: int) -> dict:
    runs: dict[str, list[dict]] = {"intra_op": [], "parallel_chunks": []}
    outs = {}
    for _ in range(repeats):
        for name in runs:
            timing, outs[name] = _time(model, inputs, k, name == "parallel_chunks")
            runs[name].append(timing)
            print(k, name, {key: round(value, 1) for key, value in timing.items()}, flush=True)
    ratio = {
        key: statistics.median(r[key] for r in runs["intra_op"])
        / statistics.median(r[key] for r in runs["parallel_chunks"])
        for key in ("wall_s", "cpu_s")
    }
    same = torch.equal(outs["intra_op"], outs["parallel_chunks"])
    print(f"k = {k}: intra-op / parallel chunks (medians): wall {ratio['wall_s']:.2f}x, "
          f"CPU {ratio['cpu_s']:.2f}x; bitwise equal: {same}")  # fmt: skip
    return {"k": k, "runs": runs, "ratio": ratio, "bitwise_equal": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("BATCHBALD_DATA_DIR"))
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--k", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args()
    model = MNISTBayesianCNN(generator=torch.Generator().manual_seed(0)).eval()
    inputs = _inputs(args.data_dir, args.n)
    load = os.getloadavg()
    rows = [_compare(model, inputs, k, args.repeats) for k in args.k]
    if args.out:
        payload = {"command": "benchmarks/scoring_parallel_chunks.py", "n": args.n,
                   "mnist": bool(args.data_dir), "rows": rows, "threads": torch.get_num_threads(),
                   "load_before": load, "load_after": os.getloadavg()}  # fmt: skip
        Path(args.out).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
