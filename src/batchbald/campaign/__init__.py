"""Labelling campaigns: a team labels its own pool with BatchBALD, durably (docs/campaigns.md).

The service layer over the experiments' loop, acquirers and learners; nothing in the science
imports it. API (for scripts, notebooks, the CLI and the web page ``batchbald.campaign.web``):

- ``Campaign.init(project, *, source, classes, db_url=None, method="batchbald", batch_size=10,
  model="mnist_cnn", seed=0, k=20, training={}, regime={}, image={})`` (``model``: a kind or a
  dict of ``ModelSpec`` fields; ``source`` may be ``features:FILE.npy``) and
  ``Campaign.open(project)``; attributes ``project``, ``settings``, ``classes``, ``store``.
- ``current_round() -> Round | None``: ``number, method, seed, model_version, created_at,
  batch_size, timings`` and ``items``, a list of ``RoundItem(item_id, position, score)`` in
  pick order (``item_ids`` for the ids).
- ``record(item_id, label, annotator, *, request_id=None) -> LabelEvent``,
  ``skip(item_id, annotator, *, request_id=None) -> LabelEvent``,
  ``undo(annotator, *, request_id=None) -> LabelEvent | None`` (the ``undo`` event: its
  ``item_id`` is the item whose answer was cancelled, ``undoes`` the cancelled event's id).
  Errors: :class:`InvalidLabelError` (label not in classes, bad annotator, reused request id),
  :class:`UnknownItemError` (not in the pool / not in the current round).
- ``answers() -> dict[item_id, Answer]``: each answered item's current answer (``kind`` label
  or skip, ``label``, ``annotator``, ``answered_at``, ``round_number``, ``event_id``);
  ``answers_by_annotator() -> dict[item_id, dict[annotator, Answer]]``: each annotator's own.
- ``labels() -> dict[item_id, label]``, ``history()``, ``progress() -> dict`` (``round, done,
  total, skipped, remaining, per_class, per_annotator, assigned``), ``disagreements()``
  (``[{"item_id", "labels": {annotator: label}}]``), ``assign(item_id, annotators)``.
- ``propose(batch_size=None, *, on_progress=None) -> Round`` (``on_progress(phase, fraction)``;
  phases scanning, decoding, training, scoring, acquiring, writing; the overall fraction grows
  within training (per epoch) and scoring (per chunk)); a concurrent propose in any
  process raises :class:`ProposeBusyError`. ``propose_state() -> ProposeState`` (``state``
  idle/running/failed, ``phase``, ``fraction``, ``message``, ``started_at``).
- ``image_bytes(item_id) -> (bytes, media_type)`` for pool items only (else
  :class:`UnknownItemError`; a vanished file raises ``batchbald.data.sources.UnreadableItemError``).
- ``status() -> dict``, ``export(path) -> int``, ``sync_pool()``, ``close()``.
- ``batchbald campaign serve PROJECT [--host H] [--port P] [--token T]`` calls
  ``batchbald.campaign.web.serve(project: Path, *, host: str = "127.0.0.1", port: int = 8000,
  token: str | None = None)`` (imported lazily; the web helper provides it).
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use, so that ``batchbald --help`` does not load SQLAlchemy and torch.
_HOMES = {
    "Answer": "history",
    "Campaign": "core",
    "CampaignSettings": "settings",
    "LabelEvent": "history",
    "ProposeState": "lock",
    "Round": "rounds",
    "RoundItem": "rounds",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"batchbald.campaign.{_HOMES[name]}"), name)
    if name in __all__:
        return getattr(importlib.import_module("batchbald.campaign.errors"), name)
    raise AttributeError(f"module 'batchbald.campaign' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Campaign",
    "CampaignError",
    "CampaignSettings",
    "CorruptDatabaseError",
    "ForeignDatabaseError",
    "InvalidLabelError",
    "LabelEvent",
    "NewerSchemaError",
    "NotACampaignError",
    "ProposeBusyError",
    "ProposeState",
    "Round",
    "RoundItem",
    "UnknownItemError",
]
