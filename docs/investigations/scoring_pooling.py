"""Pool scoring with ``fast.max_pool_2x2`` vs torch's ``F.max_pool2d`` (the paper CNNs' fast path).

``scoring_log_probs`` of both paper CNNs max-pools with :func:`batchbald.models.fast.max_pool_2x2`
(the maximum of four strided views). The peer is the same code with torch's ``F.max_pool2d``
patched in. Both run on the same random-initialised model, inputs and masks, interleaved (each
repeat runs both once), with ``predict_log_probs``' default chunk; the script checks that the
log-probabilities are bitwise identical and prints median wall times and their ratio.

Run (results in docs/benchmarks/scoring.md):
    .venv/bin/python docs/investigations/scoring_pooling.py
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from unittest import mock

import torch
import torch.nn.functional as F

from batchbald.models import EMNISTBayesianCNN, MNISTBayesianCNN, predict_log_probs

MODELS = {"mnist": (MNISTBayesianCNN, 10), "emnist": (EMNISTBayesianCNN, 47)}


def _torch_pool(hidden: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(hidden, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--images", type=int, default=2048, help="inputs scored per timing")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {args.images} images, "
        f"median of {args.repeats} interleaved repeats\n"
    )
    print("| model | k | F.max_pool2d s | max_pool_2x2 s | speed-up |")
    print("|---|---|---|---|---|")
    for name in args.models:
        cls, num_classes = MODELS[name]
        generator = torch.Generator().manual_seed(args.seed)
        model = cls(num_classes, generator=generator).eval()
        inputs = torch.randn(args.images, 1, 28, 28, generator=generator)
        for k in args.k:
            times: dict[str, list[float]] = {"torch": [], "ours": []}
            outputs: dict[str, torch.Tensor] = {}
            for _ in range(args.repeats):
                for path in times:
                    patch = (
                        mock.patch("batchbald.models.cnn.max_pool_2x2", _torch_pool)
                        if path == "torch"
                        else contextlib.nullcontext()
                    )
                    with patch:
                        start = time.perf_counter()
                        outputs[path] = predict_log_probs(
                            model, inputs, k, generator=torch.Generator().manual_seed(args.seed)
                        )
                        times[path].append(time.perf_counter() - start)
            if not torch.equal(outputs["torch"], outputs["ours"]):
                raise SystemExit(f"{name}, k={k}: the two poolings gave different results")
            torch_s, ours_s = (statistics.median(times[path]) for path in ("torch", "ours"))
            print(
                f"| {name} | {k} | {torch_s:.2f} | {ours_s:.2f} | {torch_s / ours_s:.2f}× |",
                flush=True,
            )
    print("\nBoth poolings gave bitwise-identical log-probabilities.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
