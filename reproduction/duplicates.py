"""How many of each batch's picks are another copy of an image already in the same batch, for
the Repeated-MNIST experiments (BatchBALD §5: top-b BALD picks copies, BatchBALD does not).

    .venv/bin/python reproduction/duplicates.py reproduction/runs/repeated_mnist

Row i of a ``copies``-fold Repeated-MNIST is a copy of original row ``i mod (size / copies)``
(``batchbald.data.repeated``). Prints Markdown: per trial, the duplicates in each of the first
``--steps`` batches and their mean over all batches.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def copies_of(trial: dict) -> int:
    flaws = trial["config"]["data"].get("flaws", [])
    return next((flaw["copies"] for flaw in flaws if flaw["name"] == "repeated"), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiment", type=Path, help="reproduction/runs/<experiment>")
    parser.add_argument("--steps", type=int, default=10, help="batches shown per trial")
    args = parser.parse_args()
    print(f"| trial | duplicates in batches 1–{args.steps} | mean over all batches |")
    print("|---|---|---|")
    for path in sorted(args.experiment.glob("*/trial_*.json")):
        trial = json.loads(path.read_text())
        originals = trial["dataset_size"] // copies_of(trial)
        counts = []
        for step in trial["steps"]:
            picks = step["acquired"]["indices"]
            if picks:
                counts.append(len(picks) - len({index % originals for index in picks}))
        shown = " ".join(str(count) for count in counts[: args.steps])
        mean = f"{statistics.mean(counts):.1f}" if counts else "-"
        label = f"{trial['method']} {trial['trial']} ({trial['status']})"
        print(f"| {label} | {shown} | {mean} |")


if __name__ == "__main__":
    main()
