"""Compare the campaign's labels-only training with the paper's free validation set.

Reads the complete trial files of ``free_validation.toml`` and ``labels_only.toml`` (run with
``batchbald run ... --trials 3 --out OUT``, or the copies committed in
``benchmarks/results/campaign_regime``), pairs trial i of one with trial i of the other (the
same seed: the same initial labels, model initialisation and masks) and prints, per
labelled-set size, the median test accuracy of each, the median and range of the paired
differences, and the labels-only run's held-out estimate next to its true test accuracy.

    .venv/bin/python benchmarks/campaign_regime/compare.py OUT
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path


def _trials(out: Path, name: str) -> dict[int, list[dict]]:
    """Steps of every complete trial of ``name``, by trial index."""
    paths = sorted((out / f"campaign_regime_{name}" / "batchbald_b10").glob("trial_*.json"))
    paths = paths or sorted(out.glob(f"{name}_trial_*.json"))  # the committed copies
    trials = {}
    for path in paths:
        trial = json.loads(path.read_text())
        if trial["status"] == "complete":
            trials[trial["trial"]] = trial["steps"]
    return trials


def _row(size: int, pairs: list[tuple[dict, dict]]) -> str:
    free = [a["test_accuracy"] for a, _ in pairs]
    only = [b["test_accuracy"] for _, b in pairs]
    differences = [b - a for a, b in zip(free, only, strict=True)]
    held = [b["validation_accuracy"] for _, b in pairs if not math.isnan(b["validation_accuracy"])]
    estimate = (f"{statistics.median(held):.1%} (≈{round(0.2 * size)} labels)" if held
                else "fixed regime, none")  # fmt: skip
    return (f"| {size} | {len(pairs)} | {statistics.median(free):.1%} | "
            f"{statistics.median(only):.1%} | {statistics.median(differences):+.1%} | "
            f"{min(differences):+.1%} to {max(differences):+.1%} | {estimate} |")  # fmt: skip


def main() -> None:
    """Print the markdown table."""
    out = Path(sys.argv[1])
    free, labels_only = _trials(out, "free_validation"), _trials(out, "labels_only")
    paired = sorted(set(free) & set(labels_only))
    print(f"paired trials: {paired} (free validation complete: {sorted(free)}; labels only "
          f"complete: {sorted(labels_only)})\n")  # fmt: skip
    print("| labels | trials | test acc., free 1,024-label validation (median) | test acc., "
          "labels only (median) | difference (median of pairs) | differences (range) | "
          "labels-only held-out estimate (median) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    by_size: dict[int, list[tuple[dict, dict]]] = {}
    for trial in paired:
        for a, b in zip(free[trial], labels_only[trial], strict=False):
            assert a["train_size"] == b["train_size"], "trials must step through the same sizes"
            by_size.setdefault(a["train_size"], []).append((a, b))
    for size, pairs in sorted(by_size.items()):
        print(_row(size, pairs))


if __name__ == "__main__":
    main()
