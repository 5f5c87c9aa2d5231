"""Markdown tables of the scale benchmarks' raw results (docs/performance.md, section "Scale").

python benchmarks/scale_tables.py benchmarks/results/scale_n1e6_k20_c10.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _row(record: dict) -> str:
    if record.get("status") != "ok":
        return f"| {record['what']} | — | — | {record.get('status')} |"
    extra = ""
    if "candidates_loaded" in record:
        extra = f"{record['candidates_loaded']:,} candidates loaded, {record['rounds']} round(s)"
    if "load_average_before" in record:  # 1-minute load average before -> after
        before, after = record["load_average_before"][0], record["load_average_after"][0]
        extra += f"{'; ' if extra else ''}load {before:.1f} → {after:.1f}"
    return (
        f"| {record['what']} | {record['seconds']:.1f} | {record['peak_rss_mib']:,.0f} | {extra} |"
    )


def table(path: Path) -> str:
    """One results file as a markdown table."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    n, k, c = summary["shape"]
    lines = [
        f"N = {n:,}, K = {k}, C = {c} ({summary['store_gib']:.2f} GiB float32); "
        f"`{summary['command']}`; load average at the end {summary['load_average_at_end']}",
        "",
        "| measurement | seconds | peak RSS (MiB) | notes |",
        "|---|---|---|---|",
        *(_row(record) for record in summary["records"]),
    ]
    if summary["same_picks_as_in_memory"]:
        lines += ["", f"Same picks as in memory: {summary['same_picks_as_in_memory']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(Path(name)) for name in sys.argv[1:]))
