"""``propose``: train on the labels so far, score the pool, record the next batch.

It runs one step of the experiments' own :class:`~batchbald.loop.ActiveLearningLoop` (same
learner family, acquirers, generators), rebuilt from the database: the labelled set is the
source's labels (sorted by id) then every proposed item in round and pick order, the oracle
answers the current labels (``CANNOT_LABEL`` for skipped or unanswered items), and the loop's
generator states continue from those saved with the previous round. So a campaign whose
annotator answers the true labels picks exactly what ``batchbald run`` picks (tested).

The new round, its model (checkpoint and metrics) and the lock's release are one transaction:
a ``propose`` killed at any moment leaves either no round or a whole one.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from sqlalchemy import Connection, func, insert, select

from batchbald.campaign import lock
from batchbald.campaign.errors import CampaignError
from batchbald.campaign.history import current_answers
from batchbald.campaign.pool import mark_problem, sync_items
from batchbald.campaign.rounds import Round, current_round, loop_state, picked_items
from batchbald.campaign.schema import label_events, models, round_items, rounds
from batchbald.campaign.store import now

if TYPE_CHECKING:
    from batchbald.campaign.core import Campaign

__all__ = ["Progress", "run_propose"]

Progress = Callable[[str, float], None]
_FRACTIONS = {
    "scanning": 0.0,
    "decoding": 0.05,
    "training": 0.25,
    "scoring": 0.6,
    "acquiring": 0.8,
    "writing": 0.95,
}
#: Least seconds between two progress writes within a phase (a phase's start always writes).
_MIN_INTERVAL_S = 0.5


class _Reporter:
    """Publishes progress to the lock row and the caller; measures each phase's seconds.

    ``report(phase, fraction)``: ``fraction`` is the share of ``phase`` done, mapped into the
    phase's span of :data:`_FRACTIONS` (so the overall fraction only grows). A new phase is
    always published; progress within a phase at most every :data:`_MIN_INTERVAL_S` seconds
    (a database write each), and when the phase is complete.
    """

    def __init__(self, campaign: Campaign, owner: str, on_progress: Progress | None) -> None:
        self.campaign, self.owner, self.on_progress = campaign, owner, on_progress
        self.timings: dict[str, float] = {}
        self._phase, self._start = "", time.perf_counter()
        self._published = (-1.0, 0.0)  # (overall fraction, time) of the last publication

    def close(self) -> None:
        """End the current phase's clock (no database write: used inside a transaction)."""
        stamp = time.perf_counter()
        if self._phase:
            self.timings[self._phase] = self.timings.get(self._phase, 0.0) + stamp - self._start
        self._phase, self._start = "", stamp

    def __call__(self, phase: str, fraction: float = 0.0) -> None:
        started = phase != self._phase
        if started:
            self.close()
            self._phase = phase
        overall = _overall(phase, fraction)
        last, at = self._published
        stamp = time.perf_counter()
        due = started or fraction >= 1.0 or stamp - at >= _MIN_INTERVAL_S
        if not due or overall < last or (overall == last and not started):
            return
        self._published = (overall, stamp)
        lock.set_progress(self.campaign.store, self.owner, phase, overall)
        if self.on_progress is not None:
            self.on_progress(phase, overall)


def _overall(phase: str, fraction: float) -> float:
    """The overall fraction of ``fraction`` done within ``phase``."""
    start = _FRACTIONS.get(phase, 0.0)
    following = [value for value in _FRACTIONS.values() if value > start]
    end = min(following, default=1.0)
    return start + (end - start) * min(max(float(fraction), 0.0), 1.0)


class _PhasedAcquirer:
    """The acquirer, announcing the "acquiring" phase when called."""

    def __init__(self, acquirer: Any, report: _Reporter) -> None:
        self._acquirer, self._report = acquirer, report

    def __getattr__(self, name: str) -> Any:
        return getattr(self._acquirer, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._report("acquiring", 0.0)
        return self._acquirer(*args, **kwargs)


def run_propose(campaign: Campaign, batch_size: int | None, on_progress: Progress | None) -> Round:
    """Take the lock, propose, release; on any failure the state says why and no round exists."""
    owner = lock.new_owner()
    lock.take_lock(campaign.store, owner)
    try:
        return _propose(campaign, owner, batch_size or campaign.settings.batch_size, on_progress)
    except BaseException as error:
        with campaign.store.begin() as connection:
            lock.release(connection, owner, "failed", f"{type(error).__name__}: {error}")
        raise


def _labelled_order(connection: Connection) -> list[str]:
    imported = connection.execute(
        select(label_events.c.item_id).where(label_events.c.round_number.is_(None)).distinct()
    )
    return sorted(row.item_id for row in imported) + picked_items(connection)


def _load_pool(campaign: Campaign, report: _Reporter) -> tuple[Any, list[str], dict[str, str]]:
    report("scanning", 0.0)
    scanned = campaign.source().scan()
    with campaign.store.begin() as connection:
        sync_items(connection, scanned, campaign.classes)
    report("decoding", 0.0)
    decoded = campaign.decoder().decode_all(scanned, lambda done: report("decoding", done))
    with campaign.store.begin() as connection:
        for item_id, problem in decoded.failed.items():
            mark_problem(connection, item_id, problem)
        answers = current_answers(connection)
        order = _labelled_order(connection)
    labels = {i: e.label for i, e in answers.items() if e.kind == "label" and e.label}
    return decoded, order, labels


def _build_loop(campaign: Campaign, report: _Reporter, batch_size: int) -> Any:
    from batchbald.acquisition import get_acquirer
    from batchbald.campaign.targets import load_targets
    from batchbald.data import ActiveLearningData
    from batchbald.experiments.labels_only import LabelsOnlyLearner
    from batchbald.loop import ActiveLearningLoop, DatasetOracle, LoopGenerators, LoopSettings

    settings = campaign.settings
    decoded, order, labels = _load_pool(campaign, report)
    data = campaign.pool_data(decoded, labels)
    row_of = {item_id: row for row, item_id in enumerate(decoded.item_ids)}
    generators = LoopGenerators.from_seed(settings.seed)
    with campaign.store.begin() as connection:
        state = loop_state(connection)
    if state is not None:
        generators.load_state_dict(state)
    learner = LabelsOnlyLearner(
        settings.model_spec(),
        len(settings.classes),
        settings.training_config(),
        regime=settings.labels_only_regime(),
        on_progress=report,
    )
    acquirer = get_acquirer(settings.method, **settings.method_params)
    loop = ActiveLearningLoop(
        data=data,
        test=data.subset([]),
        split=ActiveLearningData(
            len(data), labelled_indices=[row_of[i] for i in order if i in row_of]
        ),
        learner=learner,
        acquirer=_PhasedAcquirer(acquirer, report),
        oracle=DatasetOracle(data.labels),
        settings=LoopSettings(batch_size=batch_size, k=settings.k, label_budget=2**62),
        generators=generators,
        target=load_targets(campaign.settings, campaign.project) if acquirer.uses_targets else None,
    )
    return loop, decoded.item_ids


def _propose(
    campaign: Campaign, owner: str, batch_size: int, on_progress: Progress | None
) -> Round:
    report = _Reporter(campaign, owner, on_progress)
    loop, item_ids = _build_loop(campaign, report, batch_size)
    if not len(loop.split.pool_indices):
        raise CampaignError("propose: the pool is exhausted: every item has been proposed")
    record = loop.step()
    report("writing", 0.0)
    fit = loop.learner.last_fit
    picks = [
        (item_ids[i], score)
        for i, score in zip(record.acquired["indices"], record.acquired["scores"], strict=True)
    ]
    metrics = {
        "regime": fit.regime,
        "epochs_trained": fit.epochs_trained,
        "best_epoch": fit.best_epoch,
        "holdout_size": fit.holdout_size,
        "holdout_correct": fit.holdout_correct,
        "num_labels": int(sum(record.class_histogram)),
        "class_histogram": record.class_histogram,
        "warnings": record.warnings,
    }
    with campaign.store.begin() as connection:
        state = lock._read(connection)
        if state.owner != owner or state.state != "running":
            raise CampaignError("propose: this propose lost its lock (taken over); nothing written")
        number = _write_round(connection, campaign, loop, picks, metrics, batch_size, report)
        lock.release(connection, owner, "idle", f"round {number} proposed")
        return current_round(connection)


def _write_model(connection: Connection, model: Any, number: int, metrics: dict[str, Any]) -> int:
    """Store the trained model (weights and metrics); its version."""
    version = (connection.execute(select(func.max(models.c.version))).scalar() or 0) + 1
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    values = {"version": version, "round_number": number, "created_at": now(),
              "num_labels": metrics["num_labels"], "metrics": json.dumps(metrics),
              "checkpoint": buffer.getvalue()}  # fmt: skip
    connection.execute(insert(models).values(**values))
    return version


def _write_round(
    connection: Connection,
    campaign: Campaign,
    loop: Any,
    picks: list[tuple[str, float]],
    metrics: dict[str, Any],
    batch_size: int,
    report: _Reporter,
) -> int:
    number = (connection.execute(select(func.max(rounds.c.number))).scalar() or 0) + 1
    version = None
    if metrics["num_labels"]:
        version = _write_model(connection, loop.learner.last_fit.model, number, metrics)
    report.close()
    settings = campaign.settings
    values = {"number": number, "created_at": now(), "method": settings.method,
              "seed": settings.seed, "batch_size": batch_size, "model_version": version,
              "loop_state": json.dumps(loop.generators.state_dict()),
              "timings": json.dumps(report.timings)}  # fmt: skip
    connection.execute(insert(rounds).values(**values))
    rows = [{"round_number": number, "position": p, "item_id": i, "score": s}
            for p, (i, s) in enumerate(picks)]  # fmt: skip
    connection.execute(insert(round_items), rows)
    return number
