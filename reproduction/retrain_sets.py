"""Step 1: is our BALD better than the paper's because of what it picks, or because of training?

Our BALD b = 10 on MNIST lies 1.5–4.5 points above the paper's median curve while BatchBALD
matches it (docs/reproduction.md, step 1). This script separates the two candidate causes. It
takes labelled sets — the 20 initial points plus the first batches acquired in a run — from
(a) the paper's own runs (the acquired MNIST indices of its 6 BALD b = 10 and 6 BatchBALD b = 10
trials, ``reproduction/checks/paper_mnist_b10_runs.json``, extracted from the result files in the
BatchBALD repository's ``laaos_results/paper``), and (b) our step-1 trials
(``reproduction/runs/mnist_b10``), and trains our model on each with our training regime
(``configs/mnist_b10.toml``: fresh model, early stopping on 1,024 validation points, k = 100 on
the test set), ``--seeds`` times with different training seeds.

- If our training on the paper's BALD sets gives the paper's accuracies, the sets differ: our
  BALD *picks* better points.
- If it gives our (higher) accuracies, the sets are as good as ours and the paper's training of
  BALD's sets was worse than ours.

Each fit appends one row to ``--out`` (rewritten atomically; a rerun skips finished rows), and
the summary table is printed at the end:

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python reproduction/retrain_sets.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import torch
from exact_tests import mann_whitney_greater

from batchbald.data.initial import PAPER_MNIST_INITIAL_INDICES
from batchbald.experiments.components import make_trial_split, prepare_data
from batchbald.experiments.config import load_config
from batchbald.experiments.learner import build_learner
from batchbald.experiments.results import atomic_write_json, read_json
from batchbald.loop import LoopGenerators

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "reproduction/retrain_sets.py"
PAPER_RUNS = ROOT / "reproduction" / "checks" / "paper_mnist_b10_runs.json"


def labelled_sets(sizes: list[int]) -> list[dict]:
    """Every (source, method, run, size) labelled set: MNIST training indices."""
    sets = []
    for run in json.loads(PAPER_RUNS.read_text())["runs"]:
        batches = [iteration["chosen_samples"] for iteration in run["iterations"]]
        accuracies = [iteration["accuracy"] for iteration in run["iterations"]]
        for size in sizes:
            steps = (size - len(run["initial_samples"])) // 10
            indices = run["initial_samples"] + [i for batch in batches[:steps] for i in batch]
            sets.append(
                {"source": "paper", "method": run["method"], "run": run["seed"], "size": size,
                 "indices": indices, "reported": accuracies[steps]}
            )  # fmt: skip
    for path in sorted((ROOT / "reproduction" / "runs" / "mnist_b10").glob("*/trial_*.json")):
        trial = read_json(path)
        method = "bald" if trial["acquirer"] == "bald" else "batchbald"
        by_size = {step["train_size"]: step for step in trial["steps"]}
        for size in sizes:
            indices = [
                i
                for step in trial["steps"]
                if step["train_size"] < size
                for i in step["acquired"]["indices"]
            ]
            # Every mnist_b10 trial starts from the paper's 20 points; MNIST rows = indices.
            sets.append(
                {"source": "ours", "method": method, "run": trial["trial"], "size": size,
                 "indices": list(PAPER_MNIST_INITIAL_INDICES) + indices,
                 "reported": by_size[size]["test_accuracy"]}
            )  # fmt: skip
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 60])
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per labelled set")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "mnist_b10.toml")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "reproduction" / "checks" / "retrain_sets.json"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--summary", action="store_true", help="only print --out's table")
    parser.add_argument(
        "--label-entropy",
        action="store_true",
        help="only print the entropy (nats) of each set's acquired labels (not the initial 20)",
    )
    parser.add_argument(
        "--epochs",
        action="store_true",
        help="only print how many epochs each run trained at sizes 20-80 (paper vs ours)",
    )
    args = parser.parse_args()
    rows = read_json(args.out)["rows"] if args.out.exists() else []
    if args.epochs:
        print_epochs(max_size=80)
        return 0
    if args.summary:
        print_summary(rows)
        return 0
    config = load_config(args.config)
    splits = prepare_data(config.data)
    train, test = splits.train, splits.test
    if args.label_entropy:
        print_label_entropy(labelled_sets(args.sizes), train.labels)
        return 0
    torch.set_num_threads(args.threads)
    learner = build_learner(config, train.num_classes)
    done = {(r["source"], r["method"], r["run"], r["size"], r["seed"]) for r in rows}
    for size in args.sizes:  # the first size for every set before the next size
        for labelled in (s for s in labelled_sets(args.sizes) if s["size"] == size):
            indices = torch.tensor(labelled["indices"])
            if len(set(labelled["indices"])) != size:
                raise SystemExit(f"{labelled['source']} run {labelled['run']}: not {size} points")
            for seed in range(args.seeds):
                key = (labelled["source"], labelled["method"], labelled["run"], size, seed)
                if key in done:
                    continue
                generators = LoopGenerators.from_seed(1000 + seed)
                split = make_trial_split(train, config.data, generators.split)
                # Validation as in a trial with this seed, minus any point of the labelled set.
                validation = split.validation_indices[
                    ~torch.isin(split.validation_indices, indices)
                ]
                start = time.perf_counter()
                fitted = learner.fit(train.subset(indices), train.subset(validation), generators)
                accuracy, _ = learner.evaluate(fitted.model, test, generators)
                rows.append(
                    {"source": key[0], "method": key[1], "run": key[2], "size": size,
                     "seed": seed, "accuracy": accuracy, "reported": labelled["reported"],
                     "epochs_trained": fitted.epochs_trained, "best_epoch": fitted.best_epoch,
                     "validation_size": len(validation),
                     "seconds": round(time.perf_counter() - start, 1)}
                )  # fmt: skip
                atomic_write_json(
                    args.out, {"command": "reproduction/retrain_sets.py", "rows": rows}
                )
                print(json.dumps(rows[-1]), flush=True)
    print_summary(rows)
    return 0


def print_epochs(max_size: int) -> None:
    """Epochs trained per step up to ``max_size`` labels: the paper's 12 runs vs our 6 trials."""
    paper = [
        iteration["num_epochs"]
        for run in json.loads(PAPER_RUNS.read_text())["runs"]
        for i, iteration in enumerate(run["iterations"])
        if len(run["initial_samples"]) + 10 * i <= max_size
    ]
    ours = [
        step["epochs_trained"]
        for path in sorted((ROOT / "reproduction" / "runs" / "mnist_b10").glob("*/trial_*.json"))
        for step in read_json(path)["steps"]
        if step["train_size"] <= max_size
    ]
    for source, epochs in (("paper", paper), ("ours", ours)):
        counts = dict(sorted(Counter(epochs).items()))
        print(
            f"{source}: {len(epochs)} steps at sizes <= {max_size}, epochs trained {counts}, "
            f"median {statistics.median(epochs)}"
        )


def print_label_entropy(sets: list[dict], labels: torch.Tensor) -> None:
    """Entropy of the class histogram of each set's acquired points (initial ones excluded)."""
    print("| set from | method | run | size | entropy of the acquired labels (nats) |")
    print("|---|---|---|---|---|")
    initial = len(PAPER_MNIST_INITIAL_INDICES)
    for labelled in sets:
        counts = torch.bincount(labels[labelled["indices"][initial:]], minlength=10).double()
        probs = counts[counts > 0] / counts.sum()
        entropy = float(-(probs * probs.log()).sum())
        print(
            f"| {labelled['source']} | {labelled['method']} | {labelled['run']} | "
            f"{labelled['size']} | {entropy:.3f} |"
        )


def print_summary(rows: list[dict]) -> None:
    """Median accuracy (%) per source, method and size: retrained here vs as reported."""
    print(
        "| set from | method | size | sets | retrained here: median (min–max) "
        "| reported by the run: median |"
    )
    print("|---|---|---|---|---|---|")
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["source"], row["method"], row["size"]), []).append(row)
    for (source, method, size), members in sorted(groups.items()):
        ours = [100 * r["accuracy"] for r in members]
        reported = {r["run"]: 100 * r["reported"] for r in members}
        print(
            f"| {source} | {method} | {size} | {len(reported)} | {statistics.median(ours):.1f} "
            f"({min(ours):.1f}–{max(ours):.1f}) | {statistics.median(reported.values()):.1f} |"
        )
    print("\nPer set (mean of its fits); one-sided exact Mann–Whitney, our sets > the paper's:")
    for method, size in sorted({(m, s) for _, m, s in groups}):
        means = {
            source: [statistics.mean(fits) for fits in per_set_accuracies(group).values()]
            for source in ("ours", "paper")
            if (group := groups.get((source, method, size), []))
        }
        if len(means) == 2:
            p = mann_whitney_greater(means["ours"], means["paper"])
            print(
                f"{method} {size}: ours {sorted(round(v, 1) for v in means['ours'])}, "
                f"paper {sorted(round(v, 1) for v in means['paper'])}, p = {p:.3f}"
            )


def per_set_accuracies(rows: list[dict]) -> dict:
    """Accuracies (%) of each labelled set's fits, keyed by its run."""
    fits: dict = {}
    for row in rows:
        fits.setdefault(row["run"], []).append(100 * row["accuracy"])
    return fits


if __name__ == "__main__":
    raise SystemExit(main())
