"""batchbald.atomic: every output all or nothing, dead writers' temporaries swept, one writer.

The failure tests break a write the way a full disk does (``os.fsync`` raising ENOSPC, after
the bytes went into the temporary file) or let the serialiser raise half-way, and check that
the old file is intact and no temporary file is left, for every kind of output batchbald writes.
"""

from __future__ import annotations

import ast
import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from batchbald import atomic
from batchbald.atomic import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    remove_stale_temporaries,
)
from batchbald.errors import BatchBALDError, OutputError

from .experiments.factories import make_trial

SRC = Path(__file__).resolve().parents[1] / "src" / "batchbald"


def _full_disk(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


def _writers(folder: Path):
    """``(name, path, write)`` for each kind of output (write(path) replaces the file)."""
    from matplotlib.figure import Figure

    from batchbald.data.idx import write_idx
    from batchbald.experiments.plots import save_figure
    from batchbald.experiments.results import atomic_write_json, write_steps_csv
    from batchbald.models import write_safetensors
    from batchbald.scale.writer import StoreWriter

    trials = [make_trial([0.5, 0.6])]
    store = folder / "store"
    writer = StoreWriter(store, num_rows=2, num_samples=1, num_classes=2, shard_rows=2)
    shard = torch.log_softmax(torch.zeros(2, 1, 2), -1)
    return [
        ("trial json", folder / "t.json", lambda p: atomic_write_json(p, {"a": 1})),
        ("steps csv", folder / "s.csv", lambda p: write_steps_csv(trials, p)),
        ("plot png", folder / "f.png", lambda p: save_figure(Figure(), p)),
        ("idx", folder / "x.idx", lambda p: write_idx(p, np.zeros((2, 2), np.uint8))),
        ("safetensors", folder / "w.safetensors", lambda p: write_safetensors({"w": shard}, p)),
        ("store shard", store / "shard-000000.npy", lambda p: writer.write(0, shard)),
    ]


@pytest.mark.parametrize("index", range(6))
def test_a_full_disk_leaves_every_kind_of_output_as_it_was(tmp_path, monkeypatch, index):
    name, path, write = _writers(tmp_path)[index]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"the old, valid file")
    before = sorted(p.name for p in path.parent.iterdir())
    monkeypatch.setattr(atomic.os, "fsync", _full_disk)
    with pytest.raises(OutputError, match=rf"cannot write '.*{path.name}': No space left"):
        write(path)
    assert path.read_bytes() == b"the old, valid file", name
    assert sorted(p.name for p in path.parent.iterdir()) == before  # no temporary left
    monkeypatch.undo()
    write(path)  # with room on the disk the same call replaces it
    assert path.read_bytes() != b"the old, valid file"


def test_a_serialiser_failing_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "picks.json"
    atomic_write_text(path, '{"old": true}\n')

    def half(handle):
        handle.write(b'{"new": ')
        handle.flush()
        raise ValueError("cannot serialise")

    with pytest.raises(ValueError, match="cannot serialise"):  # its own error, unchanged
        atomic_write(path, half)
    assert path.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["picks.json"]


def test_output_errors_name_the_path_and_what_is_in_the_way(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"'.*file' is a file, not a folder"):
        atomic_write_text(tmp_path / "file" / "out.json", "{}")
    (tmp_path / "folder").mkdir()
    with pytest.raises(OutputError, match=r"cannot write '.*folder': it is a folder"):
        atomic_write_text(tmp_path / "folder", "{}")
    assert [p.name for p in (tmp_path / "folder").iterdir()] == []
    error = OutputError("x")
    assert isinstance(error, OSError) and isinstance(error, BatchBALDError)


def test_a_dead_writers_temporary_is_removed_and_a_live_ones_kept(tmp_path):
    import fcntl

    target = tmp_path / "trial_0.json"
    dead = tmp_path / ".trial_0.json.abc123.part"
    dead.write_bytes(b"half a trial")
    live = tmp_path / ".trial_0.json.def456.part"
    live.write_bytes(b"being written")
    other = tmp_path / "notes.part"  # not a temporary of atomic_write: never touched
    other.write_bytes(b"")
    with open(live, "rb+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a live writer holds its temporary
        assert remove_stale_temporaries(tmp_path) == [dead]
        assert live.exists() and other.exists()
        atomic_write_text(target, "{}")  # a write of the same target sweeps it too
        assert live.exists()
    atomic_write_text(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.part", "trial_0.json"]


def test_a_live_writer_in_another_process_is_respected(tmp_path):
    """A real second process writing (its temporary locked) keeps its file; once it dies
    without finishing, the temporary is stale and goes."""
    code = (
        "import sys, time; from batchbald.atomic import atomic_write\n"
        "def slow(handle):\n"
        "    handle.write(b'half'); handle.flush(); print('writing', flush=True); time.sleep(60)\n"
        "atomic_write(sys.argv[1], slow)\n"
    )
    target = tmp_path / "picks.json"
    process = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"writing\n"
        (temporary,) = tmp_path.glob(".picks.json.*.part")
        assert remove_stale_temporaries(tmp_path) == [] and temporary.exists()
    finally:
        process.kill()
        process.wait()
    assert temporary.exists() and not target.exists()  # killed mid-write: litter, no output
    assert remove_stale_temporaries(tmp_path) == [temporary]
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_swept_before_its_writer_locked_it_is_replaced(tmp_path, monkeypatch):
    """The one window a sweeper can take a temporary (created, not yet locked): the writer
    notices (no link left) and starts again with a new one."""
    real = atomic.tempfile.mkstemp
    calls = []

    def swept_once(**kwargs):
        descriptor, name = real(**kwargs)
        calls.append(name)
        if len(calls) == 1:
            remove_stale_temporaries(tmp_path)
        return descriptor, name

    monkeypatch.setattr(atomic.tempfile, "mkstemp", swept_once)
    atomic_write_bytes(tmp_path / "x.bin", b"payload")
    assert len(calls) == 2 and (tmp_path / "x.bin").read_bytes() == b"payload"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


# Where a file may be written other than through atomic_write's handle.
_ALLOWED = {
    "atomic.py": "the helper itself",
    "experiments/trial.py": 'open(lock_path, "a"): the lock file, never read for data',
    "campaign/web/testing.py": "a browser test fixture's pool folder, not an output",
}


def _writes(tree: ast.AST) -> list[int]:
    """Lines of calls that write a file by path rather than into a ``handle``/``buffer``."""
    return [node.lineno for node in ast.walk(tree) if _writes_by_path(node)]


def _writes_by_path(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute | ast.Name):
        return False
    function, args = node.func, node.args
    if isinstance(function, ast.Name):  # open(path, "w"); replace() is dataclasses'
        if function.id != "open":
            return False
        modes = [*args[1:2], *(k.value for k in node.keywords if k.arg == "mode")]
        return any(set(str(getattr(mode, "value", ""))) & set("wax+") for mode in modes)
    owner = function.value.id if isinstance(function.value, ast.Name) else ""
    name = function.attr
    if name in ("write_text", "write_bytes"):
        return True
    if name in ("replace", "rename"):  # os.replace(a, b) or Path.replace(b); not str's
        return owner == "os" or (len(args) == 1 and owner != "dataclasses")
    target = args[1] if name == "save" and owner == "torch" and len(args) > 1 else None
    if name in ("savefig", "savez") or (name == "save" and owner == "np"):
        target = args[0] if args else None
    if target is None:
        return False
    return not (isinstance(target, ast.Name) and target.id in ("handle", "buffer"))


def test_every_output_goes_through_the_atomic_helper():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name not in _ALLOWED:
            offenders += [f"{name}:{n}" for n in _writes(ast.parse(path.read_text("utf-8")))]
    assert not offenders, "write through batchbald.atomic instead: " + ", ".join(offenders)


def test_the_write_finder_finds_writes():
    code = (
        "open(p, 'w')\nPath(p).write_text(t)\nos.replace(a, b)\nnp.save(p, x)\n"
        "figure.savefig(p)\ntorch.save(s, p)\nopen(p)\nnp.save(handle, x)\n"
        "torch.save(s, buffer)\nreplace(c, a=1)\nname.replace('.', '_')\n"
    )
    assert sorted(_writes(ast.parse(code))) == [1, 2, 3, 4, 5, 6]


def test_permissions_are_those_of_a_plain_open(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
