"""Several ``batchbald run`` processes on one results folder: sharing the trials.

Each trial is claimed through its lock file (:func:`~batchbald.experiments.trial.trial_lock`).
A trial that another process holds is *busy* here: the runner runs every other trial first,
then waits until the busy trials' locks are free and runs them again. A trial the other
process finished is then skipped and reported as done by another process; one it left
unfinished (it was stopped or killed) is resumed here. So a run that returns has seen every
trial complete, whoever ran it, and ``batchbald run`` exits with 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from batchbald.errors import OutputError
from batchbald.experiments.trial import TrialBusyError, TrialSpec, trial_is_busy

__all__ = ["Outcome", "run_shared"]

Display = Callable[[str, str, dict[str, Any]], None]
#: ``runner(specs, jobs, threads, display, outcome)``: runs ``specs`` once, recording into
#: ``outcome``.
Runner = Callable[[Sequence[TrialSpec], int, int, Display, "Outcome"], None]


@dataclass
class Outcome:
    """What became of the trials of one run.

    Attributes:
        failures: ``(key, error)`` of every failed trial.
        busy: trials another process held when this one tried them (to retry).
        elsewhere: keys of the trials another process finished.
    """

    failures: list[tuple[str, BaseException]] = field(default_factory=list)
    busy: list[TrialSpec] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def record(self, spec: TrialSpec, error: BaseException, message: str, display: Display):
        """Note that ``spec`` raised ``error``: a busy trial is retried later, others failed.

        Raises:
            OutputError: ``error`` itself: results cannot be saved (a full disk, a read-only
                folder), so no other trial could keep its work either; the run stops.
        """
        if isinstance(error, OutputError):
            raise error
        if isinstance(error, TrialBusyError):
            self.busy.append(spec)
            display(spec.key, "busy", {"message": str(error)})
        else:
            self.failures.append((spec.key, error))
            display(spec.key, "error", {"message": message})


class _MarkElsewhere:
    """Passes events on; a retried trial found complete is marked as done by another process."""

    def __init__(self, display: Display, outcome: Outcome):
        self.display, self.outcome = display, outcome

    def __call__(self, key: str, event: str, info: dict[str, Any]) -> None:
        if event == "end" and info.get("skipped"):
            info = {**info, "elsewhere": True}
            self.outcome.elsewhere.append(key)
        self.display(key, event, info)


def wait_until_free(specs: Sequence[TrialSpec], poll_seconds: float = 0.5) -> None:
    """Return once no other process holds the lock of any trial in ``specs``."""
    waiting = list(specs)
    while waiting:
        waiting = [spec for spec in waiting if trial_is_busy(spec.path)]
        if waiting:
            time.sleep(poll_seconds)


def run_shared(
    runner: Runner, specs: Sequence[TrialSpec], jobs: int, threads: int, display: Display
) -> Outcome:
    """Run ``specs`` with ``runner``, then wait for and retry the trials that were busy."""
    outcome = Outcome()
    runner(specs, jobs, threads, display, outcome)
    while outcome.busy:
        retry, outcome.busy = outcome.busy, []
        wait_until_free(retry)
        runner(retry, min(jobs, len(retry)), threads, _MarkElsewhere(display, outcome), outcome)
    return outcome
