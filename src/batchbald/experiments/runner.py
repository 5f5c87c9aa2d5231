"""Run experiments: configs × methods × trials, in parallel processes or as Ray tasks.

Results go to ``OUT/<experiment>/<method>/trial_<i>.json`` (:mod:`.trial`); running the same
command again resumes unfinished trials and skips finished ones. Several runs may share one
folder: a trial another process is running is waited for, not run twice (:mod:`.sharing`).
"""

from __future__ import annotations

import os
import queue as queue_module
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import active_children, get_context
from pathlib import Path
from typing import Any

from batchbald.errors import BatchBALDError, ConfigError, InvalidInputError
from batchbald.experiments.components import fetch_data
from batchbald.experiments.config import ExperimentConfig
from batchbald.experiments.preflight import preflight
from batchbald.experiments.progress import ProgressDisplay
from batchbald.experiments.sharing import Outcome, run_shared
from batchbald.experiments.trial import TrialSpec, run_trial

__all__ = ["BACKENDS", "default_jobs", "plan_trials", "run_trials"]

BACKENDS = ("local", "ray")


def plan_trials(
    configs: Sequence[ExperimentConfig],
    *,
    out_dir: str | Path,
    trials: int | None = None,
    methods: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    download: bool = True,
) -> list[TrialSpec]:
    """Every (config, method, trial), trial-major so early trials of all methods finish first.

    Args:
        configs: the experiments; their names must be unique.
        out_dir: the results folder of every trial.
        trials: trials per method; default each config's ``trials``.
        methods: run only the methods with these names (``<acquirer>_b<batch size>`` or the
            config's ``name``); each must belong to at least one config. Default: all.
        data_dir: the dataset folder (None: ``$BATCHBALD_DATA_DIR`` or the user cache).
        download: download missing datasets.
    """
    names = [config.name for config in configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"experiment names must be unique across configs; got {names}")
    if trials is not None and (isinstance(trials, bool) or trials < 1):
        raise InvalidInputError(f"trials must be an int ≥ 1; got {trials!r}")
    selected = _check_methods(configs, methods)
    data = (None if data_dir is None else str(data_dir), download)
    specs = []
    for config in configs:
        count = trials or config.trials
        payload = {**config.to_dict(), "trials": count}
        for trial in range(count):
            specs += [
                TrialSpec(payload, method.name, trial, str(out_dir), *data)
                for method in config.methods
                if selected is None or method.name in selected
            ]
    return specs


def _check_methods(
    configs: Sequence[ExperimentConfig], methods: Sequence[str] | None
) -> set[str] | None:
    if methods is None:
        return None
    known = {method.name for config in configs for method in config.methods}
    unknown = [name for name in methods if name not in known]
    if unknown or not methods:
        raise ConfigError(
            f"methods must name methods of the configs; got {list(methods)}, "
            f"unknown {unknown}; known: {', '.join(sorted(known))}"
        )
    return set(methods)


def default_jobs(num_trials: int) -> int:
    """One process per CPU core, at most one per trial (each then uses cores // jobs threads)."""
    return max(1, min(num_trials, os.cpu_count() or 1))


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker(spec: TrialSpec, events: Any, threads: int) -> dict[str, Any]:
    _set_threads(threads)
    parent = os.getppid()

    def report(key: str, event: str, info: dict[str, Any]) -> None:
        # Called after each step's checkpoint: a worker whose `batchbald run` died (e.g.
        # SIGKILL) stops here instead of running on unseen; its trial resumes next time.
        if os.getppid() != parent:
            os._exit(3)
        events.put((key, event, info))

    payload = run_trial(spec, report)
    return {"key": spec.key, "status": payload["status"], "path": str(spec.path)}


def _drain(events: Any, display: Callable) -> None:
    while True:
        try:
            display(*events.get_nowait())
        except (queue_module.Empty, EOFError):
            return


def _run_local(specs, jobs, threads, display, outcome: Outcome) -> None:
    if jobs == 1:
        _set_threads(threads)
        for spec in specs:
            try:
                run_trial(spec, display)
            except BatchBALDError as error:
                outcome.record(spec, error, str(error), display)
        return
    context = get_context("spawn")
    # A plain queue inherited by the workers (no manager process that could outlive a killed
    # `batchbald run`).
    events = context.Queue()
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_init_local_worker, initargs=(events,)
    ) as pool:
        futures = {pool.submit(_local_worker, spec, threads): spec for spec in specs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, display)
                for future in done:
                    _collect(future.result, futures[future], display, outcome)
        except BaseException:
            # Ctrl-C, SIGTERM (`batchbald run` turns it into SystemExit) or a bug: stop the
            # workers now rather than at the end of their step. Killing one mid-step loses
            # nothing: the trial file holds the last finished step and the next run resumes.
            for future in pending:
                future.cancel()
            for child in active_children():
                child.terminate()
            raise
    _drain(events, display)  # the workers have exited, so their last events are in the queue
    events.close()


_LOCAL_EVENTS: Any = None


def _init_local_worker(events: Any) -> None:
    global _LOCAL_EVENTS
    _LOCAL_EVENTS = events


def _local_worker(spec: TrialSpec, threads: int) -> dict[str, Any]:
    return _worker(spec, _LOCAL_EVENTS, threads)


def _collect(get: Callable, spec: TrialSpec, display: Callable, outcome: Outcome) -> None:
    try:
        get()
    except Exception as error:
        outcome.record(spec, error, f"{type(error).__name__}: {error}", display)


def _run_ray(specs, jobs, threads, display, outcome: Outcome) -> None:
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError:
        raise BatchBALDError(
            "--backend ray needs the ray package: pip install 'batchbald[ray]'"
        ) from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False)
    events = Queue()
    remote = ray.remote(num_cpus=threads)(_worker)
    refs = {remote.remote(spec, events, threads): spec for spec in specs}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1, timeout=0.2)
        _drain(events, display)
        for ref in done:
            _collect(lambda ref=ref: ray.get(ref), refs[ref], display, outcome)
    _drain(events, display)


_RUNNERS = {"local": _run_local, "ray": _run_ray}


def _fetch_all(specs: Sequence[TrialSpec]) -> None:
    """Check (and download) every dataset once, then check each config against its data.

    Both before any trial starts: :func:`~batchbald.experiments.preflight.preflight`.
    """
    done = set()
    for spec in specs:
        config = spec.experiment()
        key = (config.data.dataset, spec.data_dir, spec.download)
        if key not in done:
            fetch_data(config.data, data_dir=spec.data_dir, download=spec.download)
            done.add(key)
    preflight(specs)


def _failure_summary(failures: list[tuple[str, BaseException]], total: int) -> str:
    """One entry per distinct error, listing the trials it hit."""
    by_message: dict[str, list[str]] = {}
    for key, error in failures:
        by_message.setdefault(str(error), []).append(key)
    lines = [f"{len(failures)} of {total} trials failed:"]
    for message, keys in by_message.items():
        lines.append(f"  {', '.join(keys)}: {message}")
    return "\n".join(lines)


def run_trials(
    specs: Sequence[TrialSpec],
    *,
    jobs: int | None = None,
    backend: str = "local",
    quiet: bool = False,
    display: Callable | None = None,
) -> list[str]:
    """Run ``specs``; failed trials do not stop the others but raise at the end.

    A trial another ``batchbald run`` on the same folder is running is waited for, not run
    twice (:mod:`~batchbald.experiments.sharing`).

    Args:
        specs: from :func:`plan_trials`.
        jobs: parallel processes (local) or concurrent tasks' CPU share (ray); default
            :func:`default_jobs`. Each process uses ``cpu_count // jobs`` torch threads.
        backend: "local" (processes on this machine) or "ray" (tasks on a Ray cluster: set
            ``RAY_ADDRESS`` to join one; ``out_dir`` must be on a filesystem all nodes share).
        quiet: log lines instead of progress bars.
        display: receives progress events (default: :class:`ProgressDisplay`).

    Returns:
        The keys of the trials that another process finished meanwhile.

    Raises:
        DataError, ConfigError: missing data, or a value it cannot satisfy (checked first).
        OutputError: a result cannot be saved (full disk, read-only folder): the run stops.
        BatchBALDError: some trials failed (the message lists them).
    """
    jobs = _checked_jobs(jobs, len(specs), backend)
    _fetch_all(specs)
    threads, runner = max(1, (os.cpu_count() or 1) // jobs), _RUNNERS[backend]
    with _shown(display, len(specs), quiet) as shown:
        outcome = run_shared(runner, specs, jobs, threads, shown)
    if outcome.failures:
        raise BatchBALDError(_failure_summary(outcome.failures, len(specs)))
    return outcome.elsewhere


@contextmanager
def _shown(display: Callable | None, total: int, quiet: bool) -> Iterator[Callable]:
    """``display``, or a :class:`ProgressDisplay` of ``total`` trials closed at the end."""
    if display is not None:
        yield display
        return
    progress = ProgressDisplay(total, quiet=quiet)
    try:
        yield progress
    finally:
        progress.close()


def _checked_jobs(jobs: int | None, num_specs: int, backend: str) -> int:
    """``jobs`` (default :func:`default_jobs`), checked, and at most one per trial."""
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    jobs = default_jobs(num_specs) if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidInputError(f"jobs must be an int ≥ 1; got {jobs!r}")
    return min(jobs, max(1, num_specs))
