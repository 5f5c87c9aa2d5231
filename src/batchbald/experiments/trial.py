"""One trial (experiment × method × seed): build the loop, run it, checkpoint every step.

The trial file is rewritten atomically after each step with the records *and* the loop state
(split, oracle answers, generator states). Running a trial whose file already exists resumes
from the last completed step; since every step retrains a fresh model from saved generator
states, the finished file equals that of an uninterrupted run (timings aside).
"""

from __future__ import annotations

import datetime
import glob
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchbald.atomic import output_error, remove_stale_temporaries
from batchbald.data import DatasetSplits
from batchbald.errors import BatchBALDError, ConfigError
from batchbald.experiments.components import make_trial_split, prepare_data
from batchbald.experiments.config import ExperimentConfig, config_from_dict
from batchbald.experiments.results import FORMAT, PHASES, atomic_write_json, read_json, trial_path
from batchbald.loop import (
    ActiveLearningLoop,
    DatasetOracle,
    LoopGenerators,
    LoopSettings,
    StepRecord,
)

__all__ = [
    "TrialBusyError",
    "TrialSpec",
    "build_trial_loop",
    "run_trial",
    "trial_is_busy",
    "trial_lock",
]

Progress = Callable[[str, str, dict[str, Any]], None]
# Keys of the config that do not change a trial's results (ignored when resuming); of the
# methods only the trial's own matters, so methods can be added to an experiment later.
_NOT_RESULTS = ("trials", "description", "methods")


class TrialBusyError(BatchBALDError):
    """Another process is running the same trial (it holds the trial's lock file)."""


@contextmanager
def trial_lock(path: Path, key: str = "") -> Iterator[None]:
    """Hold the exclusive lock of the trial file ``path`` inside the block.

    Raises:
        TrialBusyError: another process holds it (the message names the lock file).
        OutputError: the lock file cannot be created (e.g. a read-only results folder).
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no protection against concurrent runs
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a")  # closed by the with below
    except OSError as error:
        raise output_error(lock_path, error, "create the lock file") from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TrialBusyError(
                f"{key or path}: another process is running this trial (it holds {lock_path}); "
                "wait for it or stop it, then run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def trial_is_busy(path: Path) -> bool:
    """Whether another process holds the lock of the trial file ``path`` right now."""
    try:
        with trial_lock(path):
            return False
    except TrialBusyError:
        return True


@dataclass(frozen=True)
class TrialSpec:
    """What to run: a config (as a plain dict, so it pickles), a method, a trial index.

    The trial's seed is ``config.seed + trial``; all methods share it, so trial i of every
    method starts from the same initial and validation sets.
    """

    config: dict[str, Any]
    method: str
    trial: int
    out_dir: str
    data_dir: str | None = None
    download: bool = True

    @property
    def key(self) -> str:
        """``<experiment>/<method>/trial_<i>``, the trial's name in progress and errors."""
        return f"{self.config['name']}/{self.method}/trial_{self.trial}"

    @property
    def path(self) -> Path:
        """The trial's result file."""
        return trial_path(self.out_dir, self.config["name"], self.method, self.trial)

    def experiment(self) -> ExperimentConfig:
        """The validated config."""
        return config_from_dict(self.config, self.key)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def expected_steps(config: ExperimentConfig, method: str) -> int:
    """Steps of a trial that runs to its label budget: one per batch, plus the last model."""
    return math.ceil(config.stop.label_budget / config.method(method).batch_size) + 1


def _comparable(config: dict[str, Any], method: str) -> dict[str, Any]:
    kept = {key: value for key, value in config.items() if key not in _NOT_RESULTS}
    kept["method"] = [m for m in config.get("methods", []) if m.get("name") == method]
    return kept


def _as_read_now(config: dict[str, Any]) -> dict[str, Any]:
    """A saved config as this version reads it: keys added since then take their defaults.

    A trial written before a release added an optional setting (e.g. ``data.source``) is the
    same run as one with that setting at its default; a config this version cannot read stays
    as saved (and so differs).
    """
    try:
        return config_from_dict(config).to_dict()
    except BatchBALDError:
        return config


def _existing(spec: TrialSpec) -> dict[str, Any] | None:
    if not spec.path.exists():
        return None
    payload = read_json(spec.path)
    saved = _comparable(_as_read_now(payload.get("config", {})), spec.method)
    if saved != _comparable(spec.config, spec.method):
        raise ConfigError(
            f"{spec.path} holds a run of a different configuration of {spec.config['name']!r}; "
            "use another --out folder or delete the old results"
        )
    return payload


_DATA_CACHE: dict[tuple, DatasetSplits] = {}


def _data(config: ExperimentConfig, spec: TrialSpec) -> DatasetSplits:
    """Prepared data, cached per process (a worker runs many trials of one experiment)."""
    key = (repr(config.data.__dict__), spec.data_dir, spec.download)
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = prepare_data(config.data, data_dir=spec.data_dir, download=spec.download)
    return _DATA_CACHE[key]


def build_trial_loop(spec: TrialSpec, config: ExperimentConfig) -> ActiveLearningLoop:
    """The loop of one trial at its start (data, split, learner, acquirer, generators)."""
    from batchbald.experiments.learner import build_learner

    method = config.method(spec.method)
    splits = _data(config, spec)
    generators = LoopGenerators.from_seed(config.seed + spec.trial)
    return ActiveLearningLoop(
        data=splits.train,
        test=splits.test,
        split=make_trial_split(splits.train, config.data, generators.split),
        learner=build_learner(config, splits.train.num_classes),
        acquirer=method.make_acquirer(),
        oracle=DatasetOracle(splits.train.oracle_labels),
        settings=LoopSettings(
            batch_size=method.batch_size,
            k=method.k or config.scoring.k,
            label_budget=config.stop.label_budget,
            target_accuracy=config.stop.target_accuracy,
        ),
        generators=generators,
        target=splits.target,
    )


def _payload(spec: TrialSpec, config: ExperimentConfig, loop: ActiveLearningLoop, started: str):
    from batchbald import __version__

    method = config.method(spec.method)
    records = [record.to_dict() for record in loop.records]
    totals = {phase: sum(r["timings"].get(phase, 0.0) for r in records) for phase in PHASES}
    return {
        "format": FORMAT,
        "experiment": config.name,
        "method": method.name,
        "acquirer": method.acquirer,
        "params": dict(method.params),
        "trial": spec.trial,
        "seed": config.seed + spec.trial,
        "version": __version__,
        "batch_size": method.batch_size,
        "label_budget": config.stop.label_budget,
        "target_accuracy": config.stop.target_accuracy,
        "num_classes": loop.data.num_classes,
        "class_names": list(loop.data.class_names),
        "dataset_size": len(loop.data),
        "test_size": len(loop.test),
        "status": "complete" if loop.done else "running",
        "stop_reason": loop.records[-1].stop_reason if loop.records else None,
        "started": started,
        "updated": _now(),
        "timings": {"total_s": sum(totals.values()), **{f"{k}_s": v for k, v in totals.items()}},
        "config": spec.config,
        "steps": records,
        # The loop's state without its records (they are "steps" above).
        "state": {key: value for key, value in loop.state_dict().items() if key != "records"},
    }


def run_trial(spec: TrialSpec, progress: Progress | None = None) -> dict[str, Any]:
    """Run (or resume, or skip when complete) one trial; returns the final trial payload.

    Args:
        spec: the trial.
        progress: ``progress(key, event, info)`` with events "start" (``total``, ``done``),
            "step" (``record``) and "end"; called in the process running the trial.

    Raises:
        TrialBusyError: another process is running the same trial file.
    """
    with trial_lock(spec.path, spec.key):
        # Nobody else writes this trial now: a temporary file of it is a dead run's leftover.
        remove_stale_temporaries(spec.path.parent, glob.escape(spec.path.name))
        return _run_trial(spec, progress)


def _run_trial(spec: TrialSpec, progress: Progress | None) -> dict[str, Any]:
    config = spec.experiment()
    existing = _existing(spec)
    report = progress or (lambda key, event, info: None)
    if existing is not None and existing.get("status") == "complete":
        report(spec.key, "start", {"total": len(existing["steps"]), "done": len(existing["steps"])})
        report(spec.key, "end", {"skipped": True})
        return existing
    loop = build_trial_loop(spec, config)
    started = _now()
    if existing is not None:
        loop.load_state_dict({**existing["state"], "records": existing["steps"]})
        started = existing.get("started", started)
    total = max(expected_steps(config, spec.method), len(loop.records))
    report(spec.key, "start", {"total": total, "done": len(loop.records)})

    def on_step(record: StepRecord) -> None:
        atomic_write_json(spec.path, _payload(spec, config, loop, started))
        report(spec.key, "step", {"record": record.to_dict()})

    loop.run(on_step)
    payload = _payload(spec, config, loop, started)
    atomic_write_json(spec.path, payload)
    report(spec.key, "end", {"skipped": False})
    return payload
