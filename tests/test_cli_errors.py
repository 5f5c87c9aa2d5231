"""What the CLI promises on a user's mistake: one line on stderr, exit 2, no traceback, and
nothing half-written; genuine bugs keep their traceback.

In-process through ``main([...])`` (failures such as a full disk are simulated by
monkeypatching), then as real processes (``python -m batchbald`` and the ``batchbald`` entry
point) for the exit status and the exact stderr.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from batchbald import atomic
from batchbald.cli import main

from .experiments.factories import tiny_config, to_toml

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


@pytest.fixture
def pool(tmp_path) -> Path:
    generator = torch.Generator().manual_seed(0)
    path = tmp_path / "pool.npy"
    np.save(path, torch.log_softmax(torch.randn(30, 4, 3, generator=generator), -1).numpy())
    return path


def acquire(pool: Path, *extra: str) -> list[str]:
    return ["acquire", str(pool), "--method", "bald", "--batch-size", "3", *extra]


def one_error_line(capsys, command: str) -> str:
    """The single stderr line, checked to be ``batchbald COMMAND: error: ...``."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"batchbald {command}: error: "), lines[0]
    return lines[0]


def exits_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse: parse errors exit at once
        main(args)
    assert exit_info.value.code == 2


@pytest.mark.parametrize("value", ["-1", str(2**64), "1e3", "seven"])
def test_seed_out_of_range_is_one_usage_line(capsys, pool, value):
    exits_2(acquire(pool, "--seed", value))
    line = one_error_line(capsys, "acquire")
    assert f"argument --seed: must be an integer in [0, 2**64 - 1]; got '{value}'" in line
    assert line.endswith("(see batchbald acquire --help)")


def test_largest_seed_is_accepted(pool):
    assert main(acquire(pool, "--seed", str(2**64 - 1))) == 0


def test_campaign_seed_fits_its_database_column(capsys, tmp_path):
    exits_2(["campaign", "init", str(tmp_path / "p"), "--arrays", "x.npz", "--classes", "a,b",
             "--seed", str(2**63)])  # fmt: skip
    assert "must be an integer in [0, 2**63 - 1]" in one_error_line(capsys, "campaign init")


def test_out_that_is_a_folder(capsys, pool, tmp_path):
    assert main(acquire(pool, "--out", str(tmp_path))) == 2
    assert f"--out '{tmp_path}' is a folder; give a file path" in one_error_line(capsys, "acquire")


def test_out_under_a_regular_file_fails_before_the_work(capsys, pool, tmp_path, monkeypatch):
    monkeypatch.setattr("batchbald.commands.acquire._read", lambda *a: pytest.fail("read the pool"))
    assert main(acquire(pool, "--out", str(pool / "picks.json"))) == 2
    line = one_error_line(capsys, "acquire")
    assert f"cannot be created: '{pool}' is a file, not a folder" in line


def test_out_never_silently_replaces_an_existing_file(capsys, pool, tmp_path):
    out = tmp_path / "picks.json"
    out.write_text("earlier picks\n")
    assert main(acquire(pool, "--out", str(out))) == 2
    line = one_error_line(capsys, "acquire")
    assert f"--out '{out}' already exists; pass --overwrite to replace it" in line
    assert out.read_text() == "earlier picks\n"
    assert main(acquire(pool, "--out", str(out), "--overwrite")) == 0
    assert json.loads(out.read_text())["method"] == "bald"


def test_a_full_disk_leaves_the_old_picks_and_one_line(capsys, pool, tmp_path, monkeypatch):
    out = tmp_path / "picks.json"
    out.write_text("earlier picks\n")

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    assert main(acquire(pool, "--out", str(out), "--overwrite")) == 2
    assert one_error_line(capsys, "acquire").endswith(
        f"cannot write '{out}': No space left on device"
    )
    assert out.read_text() == "earlier picks\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["picks.json", "pool.npy"]


def test_a_read_only_filesystem_is_one_line(capsys, pool, tmp_path, monkeypatch):
    # What a read-only mount answers even to root (EROFS), simulated at the file's creation.
    def read_only(**kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    assert main(acquire(pool, "--out", str(tmp_path / "picks.json"))) == 2
    assert one_error_line(capsys, "acquire").endswith("Read-only file system")


@pytest.mark.skipif(ROOT, reason="root writes into a chmod-read-only folder; see the EROFS test")
def test_a_read_only_folder_is_refused_before_the_work(capsys, pool, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(acquire(pool, "--out", str(folder / "picks.json"))) == 2
    finally:
        folder.chmod(0o755)
    assert f"folder '{folder}' is not writable" in one_error_line(capsys, "acquire")


def _wrong_files(folder: Path) -> dict[str, Path]:
    """Files of the wrong format, whatever their extension says."""
    log_probs = torch.log_softmax(torch.randn(5, 2, 3), -1)
    files = {}
    torch.save(log_probs, files.setdefault("torch file named .npy", folder / "a.npy"))
    np.save(folder / "b.npy", log_probs.numpy())
    files["npy file named .pt"] = (folder / "b.npy").rename(folder / "b.pt")
    for suffix in (".npy", ".pt"):
        path = files.setdefault(f"random bytes {suffix}", folder / f"random{suffix}")
        path.write_bytes(np.random.default_rng(0).bytes(300))
    with open(files.setdefault("a pickle torch refuses", folder / "p.pt"), "wb") as handle:
        pickle.dump({"log_probs": [1, 2, 3]}, handle)
    np.save(files.setdefault("an array of strings", folder / "s.npy"), np.array(["a", "b"]))
    files["an empty file"] = folder / "empty.npy"
    files["an empty file"].write_bytes(b"")
    return files


# What the reader (batchbald.data.array_files) says it found in each of _wrong_files.
_FOUND = {
    "torch file named .npy": "expected a NumPy .npy file (numpy.save); found a PyTorch file",
    "npy file named .pt": "expected a PyTorch file (torch.save); found a NumPy .npy file",
    "random bytes .npy": "expected a NumPy .npy file (numpy.save); found unrecognised bytes",
    "random bytes .pt": "expected a PyTorch file (torch.save); found unrecognised bytes",
    "a pickle torch refuses": "found Python objects torch refuses to load safely",
    "an array of strings": "expected an array of numbers; found dtype <U1 (strings)",
    "an empty file": "found an empty file",
}


def test_files_of_the_wrong_format_are_one_line(capsys, tmp_path):
    for what, path in _wrong_files(tmp_path).items():
        assert main(acquire(path)) == 2, what
        line = one_error_line(capsys, "acquire")
        assert f"LOG_PROBS file '{path}'" in line and _FOUND[what] in line, (what, line)


def test_system_errors_are_one_line_and_bugs_keep_their_traceback(capsys, pool, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/pool.npy")

    monkeypatch.setattr("batchbald.commands.acquire.load_log_probs", denied)
    assert main(acquire(pool)) == 2
    assert one_error_line(capsys, "acquire").endswith("Permission denied: '/data/pool.npy'")

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug in batchbald")

    monkeypatch.undo()
    monkeypatch.setattr("batchbald.commands.acquire._print_picks", bug)
    with pytest.raises(ZeroDivisionError):
        main(acquire(pool))


@pytest.fixture
def tiny(tmp_path) -> Path:
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(tiny_config(methods=[{"acquirer": "random", "batch_size": 3}])))
    return config


def test_run_out_that_is_a_file(capsys, tiny):
    assert main(["run", str(tiny), "--out", str(tiny)]) == 2
    assert f"--out '{tiny}' is a file; give a folder" in one_error_line(capsys, "run")


def test_run_that_cannot_save_stops_at_once_with_one_line(capsys, tiny, tmp_path, monkeypatch):
    """A full disk at the first checkpoint: no trial file, no temporary, the run stops."""
    out = tmp_path / "out"
    monkeypatch.setattr(atomic.os, "fsync", lambda descriptor: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))  # fmt: skip
    assert main(["run", str(tiny), "--out", str(out), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == [
        f"batchbald run: error: cannot write '{out}/tiny/random_b3/trial_0.json': "
        "No space left on device"
    ]
    assert "Traceback" not in err
    assert sorted(p.name for p in (out / "tiny/random_b3").iterdir()) == ["trial_0.json.lock"]


def test_resuming_in_a_read_only_results_folder_is_one_line(capsys, tiny, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", str(tiny), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    import batchbald.commands.outputs as outputs
    import batchbald.experiments.trial as trial

    # A read-only mount: access(2) says so even to root, and creating the lock file fails.
    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False)
    assert main(["run", str(tiny), "--out", str(out), "--quiet"]) == 2
    assert f"folder '{out}' is not writable" in one_error_line(capsys, "run")
    monkeypatch.undo()

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(trial, "open", read_only, raising=False)
    assert main(["run", str(tiny), "--out", str(out), "--jobs", "1", "--quiet"]) == 2
    assert one_error_line(capsys, "run").endswith(
        f"cannot create the lock file '{out}/tiny/random_b3/trial_0.json.lock': "
        "Read-only file system"
    )


def test_report_outputs_are_checked_before_the_work(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    assert main(["report", str(tmp_path), "--markdown", str(tmp_path)]) == 2
    assert "--markdown" in one_error_line(capsys, "report")
    assert main(["report", str(tmp_path), "--plots-dir", str(tmp_path / "file")]) == 2
    assert "is a file; give a folder" in one_error_line(capsys, "report")


# As real processes: the exit status and exactly what reaches stderr.
def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("batchbald")
    return [str(script)] if script.exists() else [shutil.which("batchbald") or "batchbald"]


CASES = {
    "seed beyond 64 bits": (["--seed", str(2**64)], "argument --seed: must be an integer"),
    "out is a folder": (["--out", "{dir}"], "is a folder; give a file path"),
    "out exists": (["--out", "{pool}"], "already exists; pass --overwrite"),
}


@pytest.mark.parametrize("launcher", ["python -m batchbald", "batchbald"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_real_process_exit_2_and_one_stderr_line(tmp_path, pool, case, launcher):
    extra, expected = CASES[case]
    extra = [arg.format(dir=tmp_path, pool=pool) for arg in extra]
    python = launcher.startswith("python")
    command = [sys.executable, "-m", "batchbald"] if python else _entry_point()
    result = subprocess.run([*command, *acquire(pool, *extra)], capture_output=True, text=True)
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("batchbald acquire: error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_real_process_wrong_format_file(tmp_path):
    path = _wrong_files(tmp_path)["torch file named .npy"]
    result = subprocess.run([sys.executable, "-m", "batchbald", *acquire(path)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert _FOUND["torch file named .npy"] in result.stderr
