"""How many of each batch's picks are another copy of an image already in the same batch, for
the Repeated-MNIST experiments (BatchBALD §5: top-b BALD picks copies, BatchBALD does not).

    .venv/bin/python reproduction/duplicates.py reproduction/runs/repeated_mnist
    .venv/bin/python reproduction/duplicates.py reproduction/checks/paper_repeated_mnist_runs.json

Row i of a ``copies``-fold Repeated-MNIST is a copy of original row ``i mod (size / copies)``
(``batchbald.data.repeated``). The second form counts the same in the paper's own runs
(BatchBALD repository, ``laaos_results/paper/repeated_mnist_w_noise{2,5}_*``: 2 and 5 copies,
2 seeds each; extracted into that JSON), whose indices follow the same convention. Prints
Markdown: per trial, the duplicates in each of the first ``--steps`` batches and their mean over
all batches.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from progress import trial_files


def copies_of(trial: dict) -> int:
    flaws = trial["config"]["data"].get("flaws", [])
    return next((flaw["copies"] for flaw in flaws if flaw["name"] == "repeated"), 1)


def in_batch_copies(batches: list[list[int]], originals: int) -> list[int]:
    """Per batch: picks that are another copy of an image already in the same batch."""
    return [len(picks) - len({index % originals for index in picks}) for picks in batches if picks]


def trial_rows(experiment: Path):
    """(label, per-batch counts) for every trial file of an experiment folder."""
    for path in trial_files(experiment):
        trial = json.loads(path.read_text())
        batches = [step["acquired"]["indices"] for step in trial["steps"]]
        originals = trial["dataset_size"] // copies_of(trial)
        label = f"{trial['method']} {trial['trial']} ({trial['status']})"
        yield label, in_batch_copies(batches, originals)


def paper_rows(path: Path):
    """(label, per-batch counts) for every run in a paper-runs JSON (60,000 MNIST originals)."""
    for run in json.loads(path.read_text())["runs"]:
        batches = [iteration["chosen_samples"] for iteration in run["iterations"]]
        label = f"paper ×{run['copies']} {run['method']} seed {run['seed']}"
        yield label, in_batch_copies(batches, 60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "experiment", type=Path, help="reproduction/runs/<experiment>, or a paper-runs JSON"
    )
    parser.add_argument("--steps", type=int, default=10, help="batches shown per trial")
    args = parser.parse_args()
    source = args.experiment
    rows = list(paper_rows(source) if source.is_file() else trial_rows(source))
    print(f"| trial | duplicates in batches 1–{args.steps} | mean over all batches |")
    print("|---|---|---|")
    for label, counts in rows:
        shown = " ".join(str(count) for count in counts[: args.steps])
        mean = f"{statistics.mean(counts):.1f}" if counts else "-"
        print(f"| {label} | {shown} | {mean} |")


if __name__ == "__main__":
    main()
