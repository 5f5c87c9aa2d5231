"""Side-by-side timing of ``benchmarks/acquisition.py`` cases 1-4: this checkout against another.

Each measurement is a fresh process of one venv's Python that builds the case's pool (the
benchmark's synthetic pool, rebuilt by ``tests/acquisition/fixtures/greedy_cases.py``), warms up
on a small pool, and times one call with the benchmark's arguments (M = 10,000, generator seeded
with 0, 1 GiB budget, lazy, 2 threads), in wall-clock and in process CPU seconds. Each round
starts the old and the new process at the same moment, so both see the same load on a shared
machine (CPU seconds are the steadier measure there); the summary shows medians over rounds
and the ratio new / old.

    .venv/bin/python docs/investigations/redesign_speed/side_by_side.py \
        --old /tmp/engine_old/.venv/bin/python --new .venv/bin/python --rounds 5 \
        --out docs/investigations/redesign_speed/results.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CASES = {  # the benchmark's cases 1-4: (method, N, K, C, b, M), run in this order
    "4": ("bald", 60_000, 100, 10, 10, 0),
    "1": ("batchbald", 10_000, 100, 10, 10, 10_000),
    "3": ("batchbald", 10_000, 10, 47, 10, 10_000),
    "2": ("batchbald", 60_000, 100, 10, 10, 10_000),
}
WORKER = """
import json, sys, time, torch
sys.path.insert(0, {fixtures!r})
from greedy_cases import synthetic_log_probs
import batchbald
from batchbald.acquisition import batchbald as greedy, get_acquirer
torch.set_num_threads(2)
method, n, k, c, b, m = {case!r}
def call(log_probs):
    if method == "bald":
        return get_acquirer("bald")(log_probs, b)
    generator = torch.Generator().manual_seed(0)
    return greedy(log_probs, b, num_samples=m, generator=generator, max_memory_bytes=2**30)
call(synthetic_log_probs(300, k, c))
log_probs = synthetic_log_probs(n, k, c)
start, cpu = time.perf_counter(), time.process_time()
result = call(log_probs)
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu_seconds,
                  "picks": result.indices.tolist(),
                  "package": batchbald.__file__}}))
"""


def measure_pair(pythons: dict[str, str], case: str) -> dict[str, dict]:
    """One timed call of ``case`` in a fresh process of each python, started together."""
    code = WORKER.format(fixtures=str(ROOT / "tests/acquisition/fixtures"), case=CASES[case])
    processes = {
        label: subprocess.Popen(
            [python, "-W", "ignore", "-c", code], stdout=subprocess.PIPE, text=True
        )
        for label, python in pythons.items()
    }
    results = {}
    for label, process in processes.items():
        stdout, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"{label} worker failed on case {case}")
        results[label] = json.loads(stdout.strip().splitlines()[-1])
    return results


def main() -> None:
    """Run the rounds, print the table, write the raw results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="the baseline venv's python")
    parser.add_argument("--new", default=sys.executable, help="this checkout's venv's python")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    raw: dict[str, dict[str, list]] = {}
    for case in args.case or list(CASES):
        raw[case] = {"old": [], "new": []}
        for round_ in range(args.rounds):
            labels = ("old", "new") if round_ % 2 == 0 else ("new", "old")
            results = measure_pair({label: getattr(args, label) for label in labels}, case)
            for label, result in results.items():
                raw[case][label].append(result)
                print(
                    case,
                    label,
                    f"{result['seconds']:.2f} s wall",
                    f"{result['cpu_seconds']:.2f} s CPU",
                    result["picks"],
                    flush=True,
                )
        args.out.write_text(json.dumps(raw, indent=1) + "\n")
    print(
        "| case | old wall (s) | new wall (s) | old CPU (s) | new CPU (s) | new / old (wall) "
        "| new / old (CPU) | same picks |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case, runs in raw.items():
        wall, cpu = (
            [statistics.median(r[key] for r in runs[label]) for label in ("old", "new")]
            for key in ("seconds", "cpu_seconds")
        )
        same = all(o["picks"] == n["picks"] for o, n in zip(runs["old"], runs["new"], strict=True))
        print(
            f"| {case} | {wall[0]:.2f} | {wall[1]:.2f} | {cpu[0]:.2f} | {cpu[1]:.2f} | "
            f"{wall[1] / wall[0]:.2f} | {cpu[1] / cpu[0]:.2f} | {'yes' if same else 'no'} |"
        )


if __name__ == "__main__":
    main()
