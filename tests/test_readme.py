"""The README's Python example runs as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a Python example"
    for block in blocks:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the example should not warn either
            exec(compile(block, str(README), "exec"), {})
