"""The Python examples of the README and docs/*.md run as written.

Each document's ```python blocks run in order in one namespace, in a temporary working
directory, with warnings as errors (an example should not warn either). Two markers on the line
before a block change that:

- ``<!-- not run: <why> -->``: the block is compiled and only its imports run (it needs a
  person at the terminal or files that are not here);
- ``<!-- needs MNIST -->``: the block loads MNIST from the data directory (``$BATCHBALD_DATA_DIR``,
  which ``make test`` sets to ``../shared/datasets`` when that folder exists); without the
  files the document's remaining blocks are skipped.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest

from batchbald.data.locations import resolve_data_dir

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"(?:<!-- (?P<marker>[^>]*?) -->\n)?```python\n(?P<code>.*?)```", re.S)
DATA_DIR = resolve_data_dir().resolve()  # where the examples' load_dataset("mnist") looks


def python_blocks(text: str) -> list[tuple[str, str]]:
    """(marker or "", code) for every ```python block, in order."""
    return [(m["marker"] or "", m["code"]) for m in BLOCK.finditer(text)]


def imports_only(code: str, filename: str) -> ast.Module:
    """The block's import statements (after checking that the whole block parses)."""
    tree = ast.parse(code, filename)
    body = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return ast.Module(body=body, type_ignores=[])


def test_markers_are_parsed():
    text = "x\n<!-- not run: why -->\n```python\nimport os\nboom(\n```\n```python\ny = 1\n```\n"
    assert python_blocks(text) == [("not run: why", "import os\nboom(\n"), ("", "y = 1\n")]
    with pytest.raises(SyntaxError):  # a not-run block must still parse
        imports_only("import os\nboom(\n", "x.md")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_python_examples_run(document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocks = python_blocks(document.read_text())
    if document.name == "README.md":
        assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, (marker, code) in enumerate(blocks):
        filename = f"{document.name} (python block {number})"
        if marker.startswith("not run:"):
            exec(compile(imports_only(code, filename), filename, "exec"), namespace)
            continue
        if marker == "needs MNIST" and not (DATA_DIR / "mnist").is_dir():
            pytest.skip(f"{filename} needs MNIST in {DATA_DIR}")
        assert marker in ("", "needs MNIST"), f"{filename}: unknown marker {marker!r}"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, filename, "exec"), namespace)


COMMAND = re.compile(r"(?:^|[`$/ ])batchbald (run|report|acquire|list)\b([^`\n]*)", re.M)


def documented_options() -> list[tuple[str, str, str]]:
    """(document, command, option) for every ``--option`` written after ``batchbald <command>``
    in the README, docs/*.md and reproduction/*.md|sh."""
    sources = [*DOCUMENTS, *sorted((ROOT / "reproduction").glob("*.md")),
               *sorted((ROOT / "reproduction").glob("*.sh"))]  # fmt: skip
    found = []
    for path in sources:
        text = path.read_text().replace("\\\n", " ")  # shell line continuations
        for command, rest in COMMAND.findall(text):
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest):
                found.append((path.name, command, option))
    return found


def test_documented_cli_options_exist():
    from batchbald.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    options = documented_options()
    assert len(options) > 20  # the scan finds the documents' command lines
    unknown = {
        (document, command, option)
        for document, command, option in options
        if option not in subparsers[command]._option_string_actions
    }
    assert not unknown, f"documented options that `batchbald <command>` lacks: {sorted(unknown)}"
