"""Compare the campaign's labels-only training with the paper's free validation set.

Reads the trial files of ``free_validation.toml`` and ``labels_only.toml`` (run with
``batchbald run ... --out OUT``) and prints, per labelled-set size, both runs' test accuracy, and
the labels-only run's held-out estimate next to its true test accuracy.

    .venv/bin/python benchmarks/campaign_regime/compare.py OUT
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def _steps(out: Path, name: str) -> list[dict]:
    path = out / f"campaign_regime_{name}" / "batchbald_b10" / "trial_0.json"
    if not path.exists():  # the committed copies in benchmarks/results/campaign_regime
        path = out / f"{name}_trial_0.json"
    return json.loads(path.read_text())["steps"]


def main() -> None:
    """Print the markdown table."""
    out = Path(sys.argv[1])
    free, labels_only = _steps(out, "free_validation"), _steps(out, "labels_only")
    print(
        "| labels | test acc., free 1,024-label validation | test acc., labels only | difference "
        "| labels-only regime: held-out estimate (n) | best/trained epochs (free; labels only) |"
    )
    print("|---|---|---|---|---|---|")
    for a, b in zip(free, labels_only, strict=False):
        held = b["validation_accuracy"]
        size = b["train_size"]
        n = round(0.2 * size) if size >= 50 else 0
        estimate = "fixed regime, none" if math.isnan(held) else f"{held:.1%} (≈{n})"
        epochs = f"{a['best_epoch']}/{a['epochs_trained']}; {b['best_epoch']}/{b['epochs_trained']}"
        difference = b["test_accuracy"] - a["test_accuracy"]
        print(
            f"| {a['train_size']} | {a['test_accuracy']:.1%} | {b['test_accuracy']:.1%} | "
            f"{difference:+.1%} | {estimate} | {epochs} |"
        )


if __name__ == "__main__":
    main()
