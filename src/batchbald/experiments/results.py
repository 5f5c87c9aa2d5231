"""Trial result files: atomic JSON writes, loading, and a flat CSV export.

One JSON file per trial, ``OUT/<experiment>/<method>/trial_<i>.json``, rewritten atomically after
every step. It holds the config, seed, package version, one record per step and the state needed
to resume (:mod:`batchbald.experiments.runner`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchbald.atomic import atomic_write_text
from batchbald.errors import DataError

__all__ = [
    "FORMAT",
    "TrialResult",
    "atomic_write_json",
    "find_trial_files",
    "load_trials",
    "read_json",
    "trial_path",
    "write_steps_csv",
]

FORMAT = "batchbald.trial/1"
PHASES = ("training", "distillation", "evaluation", "scoring", "acquisition")


def trial_path(out_dir: str | Path, experiment: str, method: str, trial: int) -> Path:
    """Where a trial's JSON lives."""
    return Path(out_dir) / experiment / method / f"trial_{trial}.json"


def atomic_write_json(path: str | Path, payload: Any) -> None:
    """Write JSON so that a reader (or a crash) only ever sees the old or the new file.

    Uses :func:`batchbald.atomic.atomic_write`: temporary file, fsync, ``os.replace``.
    """
    atomic_write_text(path, json.dumps(payload, indent=1, allow_nan=True))


def read_json(path: str | Path) -> dict[str, Any]:
    """Load a JSON object; unreadable or malformed files are :class:`DataError`."""
    try:
        with open(path, encoding="utf-8") as file:
            payload = json.load(file)
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"cannot read results file {str(path)!r}: {error}") from None
    if not isinstance(payload, dict):
        raise DataError(f"results file {str(path)!r} must hold a JSON object")
    return payload


@dataclass(frozen=True)
class TrialResult:
    """One trial's results as loaded from its JSON file.

    Attributes:
        experiment, method, trial, seed: identity of the trial.
        batch_size: b of the method; label_budget: acquired labels at which it stops.
        num_classes, class_names: the dataset's classes.
        steps: the per-step records (dicts; see ``docs/experiments.md``).
        complete: whether the trial finished (False for a partial, resumable run).
        path: the file it came from.
        stop_reason: why it stopped ("target_accuracy", "label_budget", "pool_exhausted"),
            None while it runs.
    """

    experiment: str
    method: str
    trial: int
    seed: int
    batch_size: int
    label_budget: int
    num_classes: int
    class_names: tuple[str, ...]
    steps: tuple[dict[str, Any], ...]
    complete: bool
    path: str = ""
    stop_reason: str | None = None

    @property
    def stopped_at_target(self) -> bool:
        """Whether the trial stopped because it reached its target accuracy.

        Only then does its last accuracy stand for the sizes after its last step (the
        papers' convention); a trial that stopped at its label budget never got there.
        """
        return self.stop_reason == "target_accuracy"

    @property
    def sizes(self) -> list[int]:
        """Training-set size of each step."""
        return [int(step["train_size"]) for step in self.steps]

    @property
    def accuracies(self) -> list[float]:
        """Test accuracy (fraction) of each step."""
        return [float(step["test_accuracy"]) for step in self.steps]

    def step_seconds(self) -> list[float]:
        """Wall time of each step (sum of its phases), in seconds."""
        return [float(sum(step["timings"].values())) for step in self.steps]

    def acquisition_seconds(self) -> list[float]:
        """Time of the acquisition phase of every step that acquired points (all but the last)."""
        return [
            float(step["timings"].get("acquisition", 0.0))
            for step in self.steps
            if step.get("acquired", {}).get("indices")
        ]

    @classmethod
    def from_payload(cls, payload: dict[str, Any], path: str = "") -> TrialResult:
        """Read a trial file's JSON payload (``path`` names it in errors)."""
        if payload.get("format") != FORMAT:
            raise DataError(
                f"{path or 'payload'} is not a batchbald trial file (format "
                f"{payload.get('format')!r}; expected {FORMAT!r})"
            )
        try:
            return cls(
                experiment=str(payload["experiment"]),
                method=str(payload["method"]),
                trial=int(payload["trial"]),
                seed=int(payload["seed"]),
                batch_size=int(payload["batch_size"]),
                label_budget=int(payload["label_budget"]),
                num_classes=int(payload["num_classes"]),
                class_names=tuple(payload.get("class_names", ())),
                steps=tuple(payload["steps"]),
                complete=payload["status"] == "complete",
                path=path,
                stop_reason=payload.get("stop_reason"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"{path or 'payload'} is missing or has a bad field: {error}") from None


def find_trial_files(paths: Iterable[str | Path]) -> list[Path]:
    """Trial JSON files under ``paths`` (files are taken as they are, folders searched)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("trial_*.json")))
        elif path.is_file():
            found.append(path)
        else:
            raise DataError(f"results path {str(path)!r} does not exist")
    return found


def load_trials(paths: Iterable[str | Path], *, include_partial: bool = True) -> list[TrialResult]:
    """Load every trial under ``paths``, sorted by experiment, method and trial.

    Raises:
        DataError: a path does not exist, holds no trial files, or a file is malformed.
    """
    paths = list(paths)
    files = find_trial_files(paths)
    if not files:
        raise DataError(f"no trial_*.json results found under {', '.join(map(str, paths))}")
    trials = [TrialResult.from_payload(read_json(file), str(file)) for file in files]
    if not include_partial:
        trials = [trial for trial in trials if trial.complete]
    return sorted(trials, key=lambda t: (t.experiment, t.method, t.trial))


CSV_COLUMNS = (
    "experiment", "method", "trial", "seed", "batch_size", "step", "train_size",
    "test_accuracy", "test_nll", "validation_accuracy", "epochs_trained",
    *(f"seconds_{phase}" for phase in PHASES),
    "acquired_indices", "acquired_labels", "acquired_scores",
)  # fmt: skip


def _csv_row(trial: TrialResult, step: dict[str, Any]) -> list[Any]:
    acquired = step.get("acquired", {})
    timings = step.get("timings", {})
    return [
        trial.experiment, trial.method, trial.trial, trial.seed, trial.batch_size,
        step["step"], step["train_size"], step["test_accuracy"], step["test_nll"],
        step.get("validation_accuracy", math.nan), step.get("epochs_trained", 0),
        *(timings.get(phase, 0.0) for phase in PHASES),
        " ".join(map(str, acquired.get("indices", []))),
        " ".join(map(str, acquired.get("labels", []))),
        " ".join(f"{score:.6g}" for score in acquired.get("scores", [])),
    ]  # fmt: skip


def write_steps_csv(trials: Sequence[TrialResult], path: str | Path) -> None:
    """One CSV row per trial step (acquired points space-separated within a cell), atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for trial in trials:
        for step in trial.steps:
            writer.writerow(_csv_row(trial, step))
    atomic_write_text(path, buffer.getvalue())
