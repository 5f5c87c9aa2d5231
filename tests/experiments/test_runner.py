"""The runner on tiny synthetic experiments: results files, resume after a crash, skipping."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchbald.errors import BatchBALDError, ConfigError, DataError
from batchbald.experiments.config import config_from_dict
from batchbald.experiments.results import load_trials, read_json
from batchbald.experiments.runner import plan_trials, run_trials
from batchbald.experiments.trial import TrialBusyError, run_trial, trial_is_busy, trial_lock
from batchbald.loop import ActiveLearningLoop

from .factories import tiny_config, to_toml

CONFIG = config_from_dict(tiny_config())


def run(out: Path, config=CONFIG, **kwargs) -> None:
    run_trials(plan_trials([config], out_dir=out), jobs=1, quiet=True, **kwargs)


def comparable(path: Path) -> dict:
    """A trial file without wall-clock fields (and the experiment's other methods)."""
    payload = read_json(path)
    for key in ("started", "updated", "timings", "config"):
        payload.pop(key)
    for step in payload["steps"]:
        step.pop("timings")
    return payload


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    run(out)
    return out


def test_writes_one_complete_file_per_trial(reference):
    files = sorted(p.relative_to(reference).as_posix() for p in reference.rglob("*.json"))
    assert files == ["tiny/bald_b3/trial_0.json", "tiny/random_b3/trial_0.json"]
    payload = read_json(reference / "tiny/bald_b3/trial_0.json")
    assert payload["status"] == "complete" and payload["stop_reason"] == "label_budget"
    assert payload["config"]["name"] == "tiny" and payload["seed"] == 0
    assert payload["version"] and payload["acquirer"] == "bald"
    assert [s["train_size"] for s in payload["steps"]] == [10, 13, 16]
    step = payload["steps"][0]
    assert {"test_accuracy", "test_nll", "validation_accuracy", "epochs_trained", "acquired",
            "class_histogram", "timings"} <= set(step)  # fmt: skip
    assert set(step["timings"]) == {"training", "evaluation", "scoring", "acquisition"}
    assert len(step["acquired"]["labels"]) == 3
    trials = load_trials([reference])
    assert [(t.method, t.complete) for t in trials] == [("bald_b3", True), ("random_b3", True)]


def test_methods_of_one_trial_share_the_initial_and_validation_sets(reference):
    states = [read_json(p)["state"]["split"] for p in sorted(reference.rglob("trial_0.json"))]
    assert states[0]["validation_indices"] == states[1]["validation_indices"]
    assert states[0]["labelled_indices"][:10] == states[1]["labelled_indices"][:10]


class Crash(Exception):
    pass


def test_resume_after_a_crash_gives_identical_results(tmp_path, reference, monkeypatch):
    """The process dies during step 2 (after step 1 was saved); running again resumes."""
    original = ActiveLearningLoop.step
    calls = {"n": 0}

    def crashing_step(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("killed")
        return original(self)

    monkeypatch.setattr(ActiveLearningLoop, "step", crashing_step)
    config = config_from_dict(tiny_config(methods=[{"acquirer": "bald", "batch_size": 3}]))
    with pytest.raises(Crash):
        run(tmp_path, config)
    partial = read_json(tmp_path / "tiny/bald_b3/trial_0.json")
    assert partial["status"] == "running" and len(partial["steps"]) == 1
    run(tmp_path, config)
    path = "tiny/bald_b3/trial_0.json"
    assert comparable(tmp_path / path) == comparable(reference / path)


def test_complete_trials_are_skipped(tmp_path, reference, monkeypatch):
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    before = (tmp_path / "tiny/bald_b3/trial_0.json").read_bytes()
    monkeypatch.setattr(ActiveLearningLoop, "step", lambda self: pytest.fail("retrained"))
    run(tmp_path)
    assert (tmp_path / "tiny/bald_b3/trial_0.json").read_bytes() == before


def test_trials_saved_before_a_setting_was_added_are_still_the_same_run(
    tmp_path, reference, monkeypatch
):
    # A trial file written before an optional setting existed (here data.source, added for
    # campaigns) lacks that key; read with the setting's default it is the same run.
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "tiny/bald_b3/trial_0.json"
    payload = read_json(path)
    for key in ("source", "test_source"):
        payload["config"]["data"].pop(key, None)
    path.write_text(json.dumps(payload))
    monkeypatch.setattr(ActiveLearningLoop, "step", lambda self: pytest.fail("retrained"))
    run(tmp_path)


def test_changed_config_in_the_same_folder_is_refused(tmp_path, reference):
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    changed = config_from_dict(tiny_config(seed=1))
    with pytest.raises(BatchBALDError, match="2 of 2 trials failed:") as error:
        run(tmp_path, changed)
    assert "holds a run of a different configuration" in str(error.value)
    # More trials or another method do not change a finished trial's results: it is kept.
    before = (tmp_path / "tiny/bald_b3/trial_0.json").read_bytes()
    methods = [*tiny_config()["methods"], {"acquirer": "entropy", "batch_size": 3}]
    run(tmp_path, config_from_dict(tiny_config(methods=methods, description="more")))
    assert (tmp_path / "tiny/bald_b3/trial_0.json").read_bytes() == before
    assert read_json(tmp_path / "tiny/entropy_b3/trial_0.json")["status"] == "complete"


def test_missing_data_fails_once_before_any_trial(tmp_path, monkeypatch):
    monkeypatch.setattr(ActiveLearningLoop, "step", lambda self: pytest.fail("started a trial"))
    table = tiny_config(data={**tiny_config()["data"], "dataset": "mnist"})
    specs = plan_trials([config_from_dict(table)], out_dir=tmp_path, data_dir=tmp_path,
                        download=False)  # fmt: skip
    with pytest.raises(DataError, match="dataset 'mnist': missing 4 file"):
        run_trials(specs, jobs=1, quiet=True)
    assert not list(tmp_path.rglob("*.json"))


def test_plan_rejects_duplicate_experiment_names(tmp_path):
    with pytest.raises(ConfigError, match="experiment names must be unique"):
        plan_trials([CONFIG, CONFIG], out_dir=tmp_path)


@pytest.mark.slow
def test_parallel_processes(tmp_path, reference):
    specs = plan_trials([CONFIG], out_dir=tmp_path)
    run_trials(specs, jobs=2, quiet=True)
    assert [t.complete for t in load_trials([tmp_path])] == [True, True]


@pytest.mark.slow
def test_killed_process_resumes_identically(tmp_path, reference):
    """SIGKILL a real ``batchbald run`` after its first checkpoint, then run it again."""
    config_path = tmp_path / "tiny.toml"
    config_path.write_text(to_toml(tiny_config(methods=[{"acquirer": "bald", "batch_size": 3}])))
    command = [sys.executable, "-m", "batchbald.cli", "run", str(config_path), "--out",
               str(tmp_path / "out"), "--jobs", "1", "--quiet"]  # fmt: skip
    trial = tmp_path / "out/tiny/bald_b3/trial_0.json"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not trial.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert read_json(trial)["status"] == "running"
    subprocess.run(command, check=True, capture_output=True)
    assert comparable(trial) == comparable(reference / "tiny/bald_b3/trial_0.json")


def test_ray_backend(tmp_path):
    ray = pytest.importorskip("ray")
    try:
        run_trials(plan_trials([CONFIG], out_dir=tmp_path), backend="ray", jobs=1, quiet=True)
    finally:
        ray.shutdown()
    assert [t.complete for t in load_trials([tmp_path])] == [True, True]


def test_plan_selects_methods_and_rejects_unknown_ones(tmp_path):
    names = [method.name for method in CONFIG.methods]
    specs = plan_trials([CONFIG], out_dir=tmp_path, trials=2, methods=names[:1])
    assert [(spec.method, spec.trial) for spec in specs] == [(names[0], 0), (names[0], 1)]
    with pytest.raises(ConfigError, match=r"unknown \['nope_b3'\]; known: "):
        plan_trials([CONFIG], out_dir=tmp_path, methods=["nope_b3"])


def test_a_trial_running_elsewhere_is_refused(tmp_path):
    spec = plan_trials([CONFIG], out_dir=tmp_path)[0]
    with trial_lock(spec.path):
        with pytest.raises(TrialBusyError, match=r"another process is running this trial.*\.lock"):
            run_trial(spec)
    assert not spec.path.exists()
    run_trial(spec)  # the lock is free again
    assert read_json(spec.path)["status"] == "complete"


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _session_members(session: int) -> list[str]:
    """Command lines of the live processes of a session (Linux /proc; [] elsewhere)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            members.append(cmdline)
    return members


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_stop_with_their_run(tmp_path, sig):
    """Stopping `batchbald run --jobs 2` stops its workers (SIGTERM at once, SIGKILL after the
    step they are in), so no orphan keeps writing to the results folder."""
    config_path = tmp_path / "tiny.toml"
    config_path.write_text(to_toml(tiny_config(stop={"label_budget": 60})))
    command = [sys.executable, "-m", "batchbald.cli", "run", str(config_path), "--out",
               str(tmp_path / "out"), "--jobs", "2", "--quiet"]  # fmt: skip
    trials = [tmp_path / f"out/tiny/{name}/trial_0.json" for name in ("bald_b3", "random_b3")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        assert _wait_for(lambda: all(t.exists() for t in trials), 120), "no checkpoint"
        assert trial_is_busy(trials[0])  # a worker is running it
        os.kill(process.pid, sig)
        process.wait(timeout=60)
        assert _wait_for(lambda: not any(trial_is_busy(t) for t in trials), 60)
        # Nothing of the run lives on: no worker, queue feeder or resource tracker.
        assert _wait_for(lambda: not _session_members(process.pid), 30), _session_members(
            process.pid
        )
        steps = [len(read_json(t)["steps"]) for t in trials]
        time.sleep(1.0)
        assert [len(read_json(t)["steps"]) for t in trials] == steps  # nobody writes on
        assert read_json(trials[0])["status"] == "running"  # it was locked when the signal came
    finally:
        process.kill()
