"""Two runs on one results folder share the trials: each runs once, both succeed.

A trial another process holds is waited for after the other trials, then skipped as "done by
another process" (or resumed here if the other process stopped without finishing it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from batchbald.experiments.config import config_from_dict
from batchbald.experiments.results import load_trials, read_json
from batchbald.experiments.runner import plan_trials, run_trials
from batchbald.experiments.trial import run_trial, trial_lock

from .factories import tiny_config, to_toml

CONFIG = config_from_dict(tiny_config())


class Recorder:
    """A display that keeps the events and flags the first "busy" one."""

    def __init__(self):
        self.events: list[tuple[str, str, dict]] = []
        self.busy = threading.Event()

    def __call__(self, key, event, info):
        self.events.append((key, event, info))
        if event == "busy":
            self.busy.set()

    def of(self, key: str) -> list[tuple[str, dict]]:
        return [(event, info) for k, event, info in self.events if k == key]


def _hold(spec, held: threading.Event, release: threading.Event, finish: bool) -> None:
    """Another "process" (a thread with its own lock handle) holds ``spec``'s trial."""
    if finish:

        def progress(key, event, info):
            if event == "start":
                held.set()
                release.wait(60)

        run_trial(spec, progress)
    else:
        with trial_lock(spec.path):
            held.set()
            release.wait(60)


def _share(tmp_path: Path, *, finish: bool) -> tuple[list[str], Recorder, str]:
    # Finished elsewhere: the other trial runs first here. Unfinished: one trial is enough.
    specs = plan_trials([CONFIG], out_dir=tmp_path)[: 2 if finish else 1]
    held, display = threading.Event(), Recorder()
    holder = threading.Thread(target=_hold, args=(specs[0], held, display.busy, finish))
    holder.start()
    try:
        assert held.wait(60)
        elsewhere = run_trials(specs, jobs=1, display=display)
    finally:
        display.busy.set()
        holder.join(60)
    return elsewhere, display, specs[0].key


def test_a_trial_finished_by_another_process_is_reported_and_not_run_twice(tmp_path):
    elsewhere, display, key = _share(tmp_path, finish=True)
    assert elsewhere == [key] == ["tiny/bald_b3/trial_0"]
    events = display.of(key)
    assert (
        events[0][0] == "busy"
        and "another process is running this trial" in events[0][1]["message"]
    )
    assert events[-1] == ("end", {"skipped": True, "elsewhere": True})
    assert not any(event == "step" for event, _ in events)  # this run trained nothing for it
    assert [t.complete for t in load_trials([tmp_path])] == [True, True]
    ends = [key for key, event, _ in display.events if event == "end"]
    assert ends == ["tiny/random_b3/trial_0", key]  # the free trial first, then the waited one


def test_a_trial_the_other_process_left_unfinished_is_run_here(tmp_path):
    elsewhere, display, key = _share(tmp_path, finish=False)
    assert elsewhere == []
    events = [event for event, _ in display.of(key)]
    assert events[0] == "busy" and events[-1] == "end" and "step" in events
    assert read_json(tmp_path / "tiny/bald_b3/trial_0.json")["status"] == "complete"


def _log(path: Path) -> str:
    return path.read_text() if path.exists() else ""


@pytest.mark.slow
def test_two_real_processes_share_one_folder_and_both_exit_0(tmp_path):
    """Process A is frozen (SIGSTOP) in its first trial while B starts: B runs the others,
    waits for A's, and both finish with exit 0, every trial run exactly once."""
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(tiny_config()))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "batchbald", "run", str(config), "--out", str(out),
               "--jobs", "1", "--quiet"]  # fmt: skip
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    first = out / "tiny/bald_b3/trial_0.json"
    with open(logs[0], "w") as log_a:
        a = subprocess.Popen(command, stdout=log_a, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not first.exists() and a.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(a.pid, signal.SIGSTOP)  # A holds trial 0 of bald_b3 and makes no progress
        with open(logs[1], "w") as log_b:
            b = subprocess.Popen(command, stdout=log_b, stderr=subprocess.STDOUT)
        while "running in another process" not in _log(logs[1]) and b.poll() is None:
            time.sleep(0.05)
            assert time.monotonic() < deadline + 120, _log(logs[1])
        os.kill(a.pid, signal.SIGCONT)
        codes = [a.wait(120), b.wait(120)]
    finally:
        for process in (a, locals().get("b")):
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
    texts = [_log(log) for log in logs]
    assert codes == [0, 0], texts
    assert "Traceback" not in texts[0] + texts[1] and "failed" not in texts[0] + texts[1]
    assert "tiny/bald_b3/trial_0: done by another process" in texts[1]
    assert "2 trials in" in texts[1] and "(1 done by another process)" in texts[1]
    keys = ["tiny/bald_b3/trial_0", "tiny/random_b3/trial_0"]
    ran = [key for key in keys for text in texts if f"{key}: done\n" in text]
    assert sorted(ran) == sorted(keys)  # each trial trained by exactly one of the two
    assert [t.complete for t in load_trials([out])] == [True, True]
