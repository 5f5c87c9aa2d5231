"""Issue 6: do 3 trials per configuration (the paper ran 6) change a Table-1 conclusion?

Compute forces every configuration of the sweep to 3 trials. This checks the deviation on the
one configuration whose 6 published runs are public: the BatchBALD repository's own MNIST b = 10
runs of BatchBALD and BALD (``reproduction/checks/paper_mnist_b10_runs.json``, six seeds shared
by both methods). It first recomputes the published Table-1 quartiles from the six runs (numpy
"nearest"; they must match docs/protocol.md §1), then, for each of the C(6, 3) = 20 ways to keep
three of the six seeds (both methods with the same seeds, as our paired trials are) and for the
20 × 20 = 400 ways with independent seeds, the three-trial medians of the mark at each
threshold: in how many of them BatchBALD's median is below, equal to or above BALD's (the
paper's conclusion: below), and the range of the three-trial medians.

    .venv/bin/python reproduction/trial_count_check.py \
        [reproduction/checks/paper_mnist_b10_runs.json] [--thresholds 0.9 0.95]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path

from crossings import paper_trial
from progress import first_reaching

from batchbald.experiments.report import quartiles

BATCH_SIZE = 10
FIRST, SECOND = "batchbald", "bald"


def marks(path: Path, threshold: float) -> dict[str, dict[int, float]]:
    """Per method, per seed: the Table-1 mark N_first − b (inf if the run never reaches it)."""
    out: dict[str, dict[int, float]] = {}
    for run in json.loads(path.read_text())["runs"]:
        first = first_reaching(paper_trial(run), threshold)
        mark = math.inf if first is None else float(first - BATCH_SIZE)
        out.setdefault(run["method"], {})[run["seed"]] = mark
    return out


def _fmt(value: float) -> str:
    return ">300" if math.isinf(value) else f"{value:.0f}"


def tally(pairs: Sequence[tuple[float, float]]) -> str:
    """'below / equal / above of n': how often the first value of a pair is below the second."""
    below = sum(a < b for a, b in pairs)
    equal = sum(a == b for a, b in pairs)
    return f"{below} / {equal} / {len(pairs) - below - equal} of {len(pairs)}"


def rows(per_method: dict[str, dict[int, float]], threshold: float, k: int = 3) -> list[str]:
    """Markdown rows for one threshold: the six-run quartiles, then the k-of-6 medians."""
    missing = [name for name in (FIRST, SECOND) if name not in per_method]
    if missing:
        raise SystemExit(f"runs: expected runs of {FIRST!r} and {SECOND!r}, none of {missing} "
                         f"found (methods present: {sorted(per_method)})")  # fmt: skip
    first, second = per_method[FIRST], per_method[SECOND]
    seeds = sorted(first.keys() & second.keys())
    subsets = list(itertools.combinations(seeds, k))

    def median(method: dict[int, float], chosen: Sequence[int]) -> float:
        return statistics.median(method[s] for s in chosen)

    paired = [(median(first, c), median(second, c)) for c in subsets]
    independent = [
        (median(first, a), median(second, b)) for a, b in itertools.product(subsets, subsets)
    ]
    lines = []
    for name, method, index in ((FIRST, first, 0), (SECOND, second, 1)):
        six = " / ".join(_fmt(v) for v in quartiles([method[s] for s in seeds]))
        medians = sorted({pair[index] for pair in paired})
        lines.append(
            f"| {threshold:.0%} | {name} | {', '.join(_fmt(method[s]) for s in seeds)} | {six} "
            f"| {_fmt(medians[0])}–{_fmt(medians[-1])} |"
        )
    lines.append(
        f"| {threshold:.0%} | {FIRST} median below / equal / above {SECOND}'s | | "
        f"| same seeds: {tally(paired)}; independent seeds: {tally(independent)} |"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs", nargs="?", type=Path, default=Path("reproduction/checks/paper_mnist_b10_runs.json")
    )
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.90, 0.95])
    args = parser.parse_args(argv)
    if not args.runs.is_file():
        raise SystemExit(f"runs: expected a paper-runs JSON file, got {args.runs} (no such file)")
    bad = [t for t in args.thresholds if not 0.0 < t <= 1.0]
    if bad:
        raise SystemExit(f"--thresholds: expected accuracies in (0, 1] (0.9 for 90%), got {bad}")
    print("| threshold | method | mark per seed (sorted by seed) | 6 runs: 25/50/75 "
          "| 3 of 6: range of medians |")  # fmt: skip
    print("|---|---|---|---|---|")
    for threshold in args.thresholds:
        print("\n".join(rows(marks(args.runs, threshold), threshold)))


if __name__ == "__main__":
    main()
