"""Code measures anyone can rerun: every file in src/ ≤ 300 lines, every function ≤ 40.

A function's length runs from its ``def`` line (decorators excluded) to its last line,
docstring included, as :mod:`ast` reports them. Ruff's ``D`` and ``N`` groups (pyproject.toml)
and ``duplicates src`` (no block of 6+ lines repeated) are the other measures.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "batchbald"
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 40


def _sources() -> list[Path]:
    return sorted(path for path in SRC.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def test_the_measures_see_the_package():
    assert len(_sources()) > 50


@pytest.mark.parametrize("path", _sources(), ids=_name)
def test_file_length(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{_name(path)} has {lines} lines (at most {MAX_FILE_LINES})"


@pytest.mark.parametrize("path", _sources(), ids=_name)
def test_function_length(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    too_long = [
        f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not too_long, f"{_name(path)}: functions over {MAX_FUNCTION_LINES} lines: {too_long}"
