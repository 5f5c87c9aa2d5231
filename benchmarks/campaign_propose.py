"""Campaign speed (issue 21): from the last label of a round to the next batch, 60,000 images.

Writes MNIST's 60,000 training images as PNG files (outside the repository: ``--images``; the
paper's 20 initial images go into class sub-folders ``0``..``9``, so they arrive labelled, the
rest into ``pool/``), creates a campaign on them (paper CNN, BatchBALD b = 10), and runs
``--rounds`` proposes, labelling every round with the true labels (a simulated annotator).
Round 1 decodes every PNG (cold cache); later rounds are what a team waits for after its last
label. Prints and saves each propose's wall time and its phases (scanning, decoding, training,
scoring, acquiring, writing).

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/campaign_propose.py \
        [--rounds 3] [--k 20] [--threads 1] [--images /tmp/batchbald_mnist_png] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from batchbald.campaign import Campaign
from batchbald.data import PAPER_MNIST_INITIAL_INDICES, read_idx, resolve_data_dir


def write_pngs(data_dir: Path, images_dir: Path) -> np.ndarray:
    """MNIST train as PNG files (skipped when already written); returns the labels."""
    from PIL import Image

    images = read_idx(data_dir / "mnist" / "train-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz")
    done = images_dir / ".complete"
    if not done.exists():
        initial = set(PAPER_MNIST_INITIAL_INDICES)
        for index, pixels in enumerate(images):
            folder = images_dir / (str(labels[index]) if index in initial else "pool")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(folder / f"{index:05d}.png")
        done.write_text("60000\n")
    return labels


def _truth(item_id: str, labels: np.ndarray) -> str:
    return str(labels[int(Path(item_id).stem)])


def timed_propose(campaign: Campaign) -> dict:
    """One propose: wall and process-CPU seconds in total and per phase, load average."""
    marks: list[tuple[str, float, float]] = []

    def mark(phase: str, fraction: float) -> None:
        marks.append((phase, time.perf_counter(), time.process_time()))

    load = os.getloadavg()[0]
    mark("start", 0.0)
    round_ = campaign.propose(on_progress=mark)
    mark("end", 1.0)
    wall, cpu = {}, {}
    for (phase, wall0, cpu0), (_, wall1, cpu1) in itertools.pairwise(marks[1:]):
        wall[phase] = wall.get(phase, 0.0) + wall1 - wall0
        cpu[phase] = cpu.get(phase, 0.0) + cpu1 - cpu0
    return {"round": round_.number, "labels": len(campaign.labels()), "load": load,
            "wall_s": marks[-1][1] - marks[0][1], "cpu_s": marks[-1][2] - marks[0][2],
            "wall": wall, "cpu": cpu, "library_timings": round_.timings}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("BATCHBALD_DATA_DIR"))
    parser.add_argument("--images", type=Path, default=Path("/tmp/batchbald_mnist_png"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--num-samples", type=int, default=10000, help="BatchBALD's M")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    labels = write_pngs(resolve_data_dir(args.data_dir), args.images)
    print(f"PNG files ready in {time.perf_counter() - start:.1f} s ({args.images})")
    project = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    campaign = Campaign.init(
        project, source=args.images, classes=[str(d) for d in range(10)], method="batchbald",
        method_params={"num_samples": args.num_samples}, batch_size=10, k=args.k, seed=0,
    )  # fmt: skip
    rows = []
    for _ in range(args.rounds):
        row = timed_propose(campaign)
        rows.append(row)
        wall = "  ".join(f"{k} {v:.1f}" for k, v in row["wall"].items())
        cpu = "  ".join(f"{k} {v:.1f}" for k, v in row["cpu"].items())
        print(f"round {row['round']} ({row['labels']} labels, load {row['load']:.1f}): "
              f"wall {row['wall_s']:.1f} s [{wall}]; CPU {row['cpu_s']:.1f} s [{cpu}]")  # fmt: skip
        for item_id in campaign.current_round().item_ids:
            campaign.record(item_id, _truth(item_id, labels), "simulated")
    if args.out:
        payload = {"command": "benchmarks/campaign_propose.py", "k": args.k, "rounds": rows,
                   "num_samples": args.num_samples, "cpus": os.cpu_count()}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
