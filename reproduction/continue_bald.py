"""Step 1: do our BALD's picks beat the paper's because our models at small sizes are better?

``retrain_sets.py`` showed that at 60 labels the paper's BALD sets and ours are equally good, but
by 100 labels ours score 2.3 points more under the same training: the difference lies in the four
batches BALD picks between 60 and 100. The paper's runs stopped training after 4 epochs with the
weights of epoch 1 in 63 of 84 steps at sizes <= 80; ours trained a median of 7 epochs. The
hypothesis: a better-trained model makes better BALD picks.

This script tests it directly. From each of the paper's 6 BALD b = 10 runs it takes the labelled
set at size 60 and continues BALD b = 10 (k = 100, ``configs/mnist_b10.toml``) to size 100 with
our loop, in two arms that differ only in how the model that *scores the pool* is trained:

- ``full``: our regime (early stopping on validation accuracy, patience 3, at most 30 epochs);
- ``one_epoch``: one epoch of 5,056 examples, like the weights the paper's runs kept.

Each arm's size-100 set is then trained with our full regime, ``--seeds`` times, exactly as
``retrain_sets.py`` trains the paper's and our sets (same seeds, same validation), so the
accuracies compare with its table: paper's size-100 BALD sets 86.4, ours 88.7 (medians).
If ``full`` lands near 88.7 and ``one_epoch`` near 86.4, the hypothesis holds.

Resumable: each finished continuation and each fit appends a row to ``--out`` (rewritten
atomically) and a rerun skips them:

    BATCHBALD_DATA_DIR=../shared/datasets .venv/bin/python reproduction/continue_bald.py
    .venv/bin/python reproduction/continue_bald.py --summary
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

import torch
from exact_tests import signed_rank_greater
from retrain_sets import per_set_accuracies

from batchbald.acquisition import get_acquirer
from batchbald.data.split import ActiveLearningData
from batchbald.experiments.components import make_trial_split, prepare_data
from batchbald.experiments.config import load_config
from batchbald.experiments.learner import BayesianLearner, build_learner
from batchbald.experiments.results import atomic_write_json, read_json
from batchbald.loop import ActiveLearningLoop, DatasetOracle, LoopGenerators, LoopSettings

ROOT = Path(__file__).resolve().parents[1]
PAPER_RUNS = ROOT / "reproduction" / "checks" / "paper_mnist_b10_runs.json"
RETRAINED = ROOT / "reproduction" / "checks" / "retrain_sets.json"
ARMS = ("full", "one_epoch")


def paper_bald_sets(size: int) -> list[tuple[int, list[int]]]:
    """(run seed, MNIST training indices) of each paper BALD b = 10 run at ``size`` labels."""
    sets = []
    for run in json.loads(PAPER_RUNS.read_text())["runs"]:
        if run["method"] != "bald":
            continue
        steps = (size - len(run["initial_samples"])) // 10
        batches = [iteration["chosen_samples"] for iteration in run["iterations"][:steps]]
        sets.append((run["seed"], run["initial_samples"] + [i for b in batches for i in b]))
    return sets


def trial_split(train, config, indices: torch.Tensor, seed: int) -> ActiveLearningData:
    """Validation as in a trial with ``seed`` (as ``retrain_sets.py``), minus ``indices``."""
    split = make_trial_split(train, config.data, LoopGenerators.from_seed(seed).split)
    validation = split.validation_indices[~torch.isin(split.validation_indices, indices)]
    return ActiveLearningData(len(train), labelled_indices=indices, validation_indices=validation)


def continue_bald(train, test, config, learner, indices, target: int, seed: int) -> dict:
    """BALD b = 10 from the labelled ``indices`` until ``target`` labels; the acquired set."""
    loop = ActiveLearningLoop(
        data=train,
        test=test,
        split=trial_split(train, config, indices, seed),
        learner=learner,
        acquirer=get_acquirer("bald"),
        oracle=DatasetOracle(train.oracle_labels),
        settings=LoopSettings(
            batch_size=10, k=config.scoring.k, label_budget=target - len(indices)
        ),
        generators=LoopGenerators.from_seed(seed),
    )
    records = loop.run()
    return {
        "indices": [int(i) for i in loop.split.labelled_indices],
        "epochs_trained": [r.epochs_trained for r in records[:-1]],
        "accuracy_by_size": {r.train_size: r.test_accuracy for r in records},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--start", type=int, default=60, help="labels taken from the paper's run")
    parser.add_argument("--target", type=int, default=100, help="labels after our BALD steps")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds per final set")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "mnist_b10.toml")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "reproduction" / "checks" / "continue_bald.json"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--summary", action="store_true", help="only print --out's table")
    args = parser.parse_args()
    if args.start < 20 or args.start % 10 or args.target <= args.start or args.target % 10:
        parser.error(
            "--start and --target must be sizes the paper's b = 10 runs reach (20, 30, ...) with "
            f"--start < --target; got --start {args.start}, --target {args.target}"
        )
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1; got {args.seeds}")
    state = read_json(args.out) if args.out.exists() else {"sets": [], "rows": []}
    if args.summary:
        print_summary(state, RETRAINED, args.start, args.target)
        return 0
    torch.set_num_threads(args.threads)
    config = load_config(args.config)
    splits = prepare_data(config.data)
    train, test = splits.train, splits.test
    full = build_learner(config, train.num_classes)
    learners: dict[str, BayesianLearner] = {
        "full": full,
        "one_epoch": BayesianLearner(
            full.model_name,
            full.num_classes,
            dataclasses.replace(full.training, max_epochs=1),
            test_k=full.test_k,
            inference_batch_size=full.inference_batch_size,
        ),
    }

    def save() -> None:
        atomic_write_json(args.out, {"command": "reproduction/continue_bald.py", **state})

    for arm in args.arms:
        for run, start_indices in paper_bald_sets(args.start):
            key = (arm, run, args.start, args.target)
            found = [
                s
                for s in state["sets"]
                if (s["arm"], s["run"], s["start"], len(s["indices"])) == key
            ]
            if not found:  # MNIST rows = MNIST indices (no copies, no flaws in this config)
                started = time.perf_counter()
                result = continue_bald(
                    train, test, config, learners[arm], torch.tensor(start_indices),
                    args.target, seed=3000 + run,
                )  # fmt: skip
                found = [{"arm": arm, "run": run, "start": args.start, **result,
                          "seconds": round(time.perf_counter() - started, 1)}]  # fmt: skip
                state["sets"].append(found[0])
                save()
                print(json.dumps({k: v for k, v in found[0].items() if k != "indices"}), flush=True)
            indices = torch.tensor(found[0]["indices"])
            for seed in range(args.seeds):
                done = (arm, run, args.target, seed)
                if any((r["arm"], r["run"], r["size"], r["seed"]) == done for r in state["rows"]):
                    continue
                generators = LoopGenerators.from_seed(1000 + seed)  # as retrain_sets.py
                split = trial_split(train, config, indices, 1000 + seed)
                fitted = full.fit(
                    train.subset(indices), train.subset(split.validation_indices), generators
                )
                accuracy, _ = full.evaluate(fitted.model, test, generators)
                state["rows"].append(
                    {"arm": arm, "run": run, "size": len(indices), "seed": seed,
                     "accuracy": accuracy, "epochs_trained": fitted.epochs_trained}
                )  # fmt: skip
                save()
                print(json.dumps(state["rows"][-1]), flush=True)
    print_summary(state, RETRAINED, args.start, args.target)
    return 0


def print_summary(state: dict, retrained: Path, start: int, target: int) -> None:
    """Per paper run: its own ``target``-size set vs the two arms' sets, all trained our way."""
    own = {}  # the paper's own BALD sets at ``target``, from retrain_sets.py (same seeds)
    if retrained.exists():
        rows = read_json(retrained)["rows"]
        paper_rows = [r for r in rows if (r["source"], r["method"]) == ("paper", "bald")]
        own = per_run_means(paper_rows, target)
    columns = {"paper's own set": own}
    columns |= {
        arm: per_run_means([r for r in state["rows"] if r["arm"] == arm], target) for arm in ARMS
    }
    runs = sorted(set().union(*columns.values()))
    print("| paper run | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for run in runs:
        cells = [f"{c[run]:.1f}" if run in c else "" for c in columns.values()]
        print(f"| {run} | " + " | ".join(cells) + " |")
    medians = [f"**{statistics.median(c.values()):.1f}**" if c else "" for c in columns.values()]
    print("| median | " + " | ".join(medians) + " |")
    for better, worse in (("full", "paper's own set"), ("full", "one_epoch")):
        paired = [r for r in runs if r in columns[better] and r in columns[worse]]
        if paired:
            p = signed_rank_greater([columns[better][r] - columns[worse][r] for r in paired])
            print(
                f"{better} > {worse}: exact one-sided signed-rank p = {p:.3f} ({len(paired)} runs)"
            )
    paper = {
        run["seed"]: 100 * run["iterations"][(start - 20) // 10]["accuracy"]
        for run in json.loads(PAPER_RUNS.read_text())["runs"]
        if run["method"] == "bald"
    }  # iteration i: 20 initial points + i batches of 10
    at_start = {
        arm: [
            100 * s["accuracy_by_size"][str(start)]
            for s in state["sets"]
            if s["arm"] == arm and s["start"] == start
        ]
        for arm in ARMS
    }
    print(
        f"accuracy of the scoring model at {start} on the paper's sets (median): "
        + ", ".join(f"{arm} {statistics.median(v):.1f}" for arm, v in at_start.items() if v)
        + f"; the paper's runs reported {statistics.median(paper.values()):.1f}"
    )


def per_run_means(rows: list[dict], size: int) -> dict[int, float]:
    """Mean accuracy (%) over the fits of each run's set of ``size`` labels."""
    fits = per_set_accuracies([row for row in rows if row["size"] == size])
    return {run: statistics.mean(values) for run, values in fits.items()}


if __name__ == "__main__":
    raise SystemExit(main())
