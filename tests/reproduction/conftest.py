"""The reproduction scripts (``reproduction/*.py``) are plain scripts that import their siblings
by name (``from progress import ...``), as ``python reproduction/x.py`` allows. Their folder goes
at the end of ``sys.path`` so the tests can ``import progress`` the same way (the names shadow
nothing installed)."""

from __future__ import annotations

import sys
from pathlib import Path

REPRODUCTION = str(Path(__file__).resolve().parents[2] / "reproduction")
if REPRODUCTION not in sys.path:
    sys.path.append(REPRODUCTION)
