"""atomic_write / atomic_write_json: all or nothing, ordinary permissions, no leftovers."""

from __future__ import annotations

import os
import stat

import pytest

from batchbald.data.idx import atomic_write
from batchbald.experiments.results import atomic_write_json, read_json


def test_writes_with_the_permissions_of_a_plain_open(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write_json(tmp_path / "trial.json", {"a": 1})
        with open(tmp_path / "plain.json", "w") as file:
            file.write("{}")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "trial.json").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.json").stat().st_mode) == 0o640
    assert read_json(tmp_path / "trial.json") == {"a": 1}


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    atomic_write(path, lambda file: file.write(b"old"))

    def failing(file):
        file.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, failing)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]
