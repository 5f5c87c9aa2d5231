"""Print the side-by-side table from ``side_by_side.py``'s raw JSON files (medians over rounds).

Besides the ratio of the medians, the last ratio column is the median over rounds of each
round's own new / old CPU ratio: the two processes of a round run at the same moment, so this
paired ratio cancels the load that changes from round to round.

    .venv/bin/python docs/investigations/redesign_speed/summarise.py \
        docs/investigations/redesign_speed/results*.json
"""

from __future__ import annotations

import json
import statistics
import sys


def main() -> None:
    """Merge the files' cases and print one Markdown row per case."""
    raw: dict[str, dict] = {}
    for path in sys.argv[1:]:
        raw.update(json.load(open(path)))
    print(
        "| case | rounds | old wall (s) | new wall (s) | old CPU (s) | new CPU (s) "
        "| new / old (wall) | new / old (CPU) | per-round new / old (CPU), median | same picks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in sorted(raw):
        runs = raw[case]
        wall, cpu = (
            [statistics.median(r[key] for r in runs[label]) for label in ("old", "new")]
            for key in ("seconds", "cpu_seconds")
        )
        paired = statistics.median(
            n["cpu_seconds"] / o["cpu_seconds"]
            for o, n in zip(runs["old"], runs["new"], strict=True)
        )
        same = all(o["picks"] == n["picks"] for o, n in zip(runs["old"], runs["new"], strict=True))
        print(
            f"| {case} | {len(runs['old'])} | {wall[0]:.1f} | {wall[1]:.1f} | {cpu[0]:.2f} | "
            f"{cpu[1]:.2f} | {wall[1] / wall[0]:.2f} | {cpu[1] / cpu[0]:.2f} | {paired:.2f} | "
            f"{'yes' if same else 'no'} |"
        )


if __name__ == "__main__":
    main()
