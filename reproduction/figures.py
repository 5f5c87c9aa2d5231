"""Saving the reproduction figures as PNG and SVG with reproducible bytes (no dates, no version).

The same figure saved twice gives the same files, so regenerated plots only show up in a diff
when their content changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Metadata that would change on every save: the PNG's software version, the SVG's date.
REPRODUCIBLE_METADATA = {".png": {"Software": None}, ".svg": {"Date": None}}


def save_figure(figure: Any, path: str | Path) -> list[Path]:
    """Save a matplotlib ``figure`` as ``path`` with suffix .png and .svg; return both paths."""
    import matplotlib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context({"svg.hashsalt": "batchbald"}):
        for suffix, metadata in REPRODUCIBLE_METADATA.items():
            target = path.with_suffix(suffix)
            figure.savefig(target, dpi=150, bbox_inches="tight", metadata=metadata)
            written.append(target)
    return written
