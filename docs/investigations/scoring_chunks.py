"""How the chunk size of ``predict_log_probs`` changes its speed (MNIST CNN fast path).

``predict_log_probs`` scores the pool in chunks of ``rows_per_chunk // k`` inputs. The result
does not depend on the chunk (checked here: every chunking must give the same tensor bitwise),
but the speed does: a chunk's intermediate tensors must stay small enough for the allocator to
reuse freed memory and for the caches to hold them. This script times every
``--rows-per-chunk`` value for every ``--k`` on the same random-initialised model, inputs and
masks, interleaved (each repeat runs every chunking once, so all see the same machine load), and
prints the median wall time and its ratio to the fastest chunking.

Run (results in docs/benchmarks/scoring.md):
    .venv/bin/python docs/investigations/scoring_chunks.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from batchbald.models import MNISTBayesianCNN, predict_log_probs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--images", type=int, default=4096, help="inputs scored per timing")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 100])
    parser.add_argument("--rows-per-chunk", type=int, nargs="+", default=[256, 1024, 4096, 16384])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    model = MNISTBayesianCNN(generator=generator).eval()
    inputs = torch.randn(args.images, 1, 28, 28, generator=generator)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {args.images} images, "
        f"median of {args.repeats} interleaved repeats; model default: "
        f"{model.scoring_rows_per_chunk} rows per chunk\n"
    )
    print("| k | rows per chunk | inputs per chunk | wall s | × fastest | image-samples/s |")
    print("|---|---|---|---|---|---|")
    for k in args.k:
        times: dict[int, list[float]] = {rows: [] for rows in args.rows_per_chunk}
        outputs: dict[int, torch.Tensor] = {}
        for _ in range(args.repeats):
            for rows in args.rows_per_chunk:
                start = time.perf_counter()
                out = predict_log_probs(
                    model,
                    inputs,
                    k,
                    batch_size=max(1, rows // k),
                    generator=torch.Generator().manual_seed(args.seed + 1),
                )
                times[rows].append(time.perf_counter() - start)
                outputs[rows] = out
        reference = outputs[args.rows_per_chunk[0]]
        for rows, out in outputs.items():
            if not torch.equal(out, reference):
                raise SystemExit(f"k={k}: {rows} rows per chunk changed the result")
        medians = {rows: statistics.median(t) for rows, t in times.items()}
        fastest = min(medians.values())
        for rows, wall in medians.items():
            print(
                f"| {k} | {rows} | {max(1, rows // k)} | {wall:.2f} | {wall / fastest:.2f} | "
                f"{args.images * k / wall:,.0f} |",
                flush=True,
            )
    print("\nEvery chunking gave bitwise-identical log-probabilities.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
