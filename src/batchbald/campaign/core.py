"""``Campaign``: a team labels its own pool with BatchBALD; the API the CLI and web page use."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from batchbald.campaign import labelling, lock, reports
from batchbald.campaign.errors import CampaignError, NotACampaignError, UnknownItemError
from batchbald.campaign.history import (
    Answer,
    LabelEvent,
    all_events,
    annotator_answers,
    current_answers,
    disagreements,
    find_request,
)
from batchbald.campaign.pool import sync_items
from batchbald.campaign.project import DEFAULT_DB, PROJECT_FILE, project_store, write_project
from batchbald.campaign.rounds import Round, current_round
from batchbald.campaign.schema import campaign, items, propose_state
from batchbald.campaign.settings import CampaignSettings, check_model
from batchbald.campaign.store import Store, now
from batchbald.campaign.targets import check_target_source
from batchbald.data.sources import PoolSource, open_source

__all__ = ["PROJECT_FILE", "Campaign"]


class Campaign:
    """A labelling campaign in a project folder (see ``docs/campaigns.md``).

    Create with :meth:`init`, reopen with :meth:`open`. Every method is one transaction on the
    campaign database, so several processes (the web server, ``propose``, scripts) can share it.

    Attributes:
        project: the project folder (``campaign.json``, the SQLite file, the decode cache).
        store: the database.
        settings: the :class:`CampaignSettings`.
    """

    def __init__(self, project: Path, store: Store, settings: CampaignSettings) -> None:
        self.project, self.store, self.settings = project, store, settings
        self._source: PoolSource | None = None
        self._decoder: Any = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names, in button order."""
        return self.settings.classes

    @classmethod
    def init(
        cls,
        project: str | os.PathLike[str],
        *,
        source: str | os.PathLike[str],
        classes: Sequence[str],
        db_url: str | None = None,
        **options: Any,
    ) -> Campaign:
        """Create a campaign.

        ``source`` (a folder, ``csv:``/``npz:``/``features:`` spec) is labelled with
        ``classes``; ``options`` are further :class:`CampaignSettings` fields (``method``,
        ``model``, ``target``, ...). The model is built and run once here (not at ``propose``).

        Raises:
            CampaignError: ``project`` already holds a campaign; InvalidInputError and
                DataError subclasses for bad settings or a missing source; ConfigError,
                ModelError, WeightsError for a model that cannot be built or run.
        """
        project = Path(project).resolve()
        if (project / PROJECT_FILE).exists():
            raise CampaignError(f"project {str(project)!r} already holds a campaign; open it")
        classes = tuple(classes)
        pool = open_source(os.fspath(source), classes)
        options["target"] = check_target_source(options.get("target", ""), pool, classes)
        settings = CampaignSettings(source=pool.spec, classes=classes, **options)
        check_model(settings, pool)
        project.mkdir(parents=True, exist_ok=True)
        store = Store(db_url) if db_url else Store.sqlite_file(project / DEFAULT_DB)
        scanned = pool.scan()
        store.create()
        with store.begin() as connection:
            connection.execute(
                insert(campaign).values(id=1, created_at=now(), settings=settings.to_json())
            )
            connection.execute(insert(propose_state).values(id=1, state="idle"))
            sync_items(connection, scanned, classes)
        write_project(project, db_url)
        return cls(project, store, settings)

    @classmethod
    def open(cls, project: str | os.PathLike[str]) -> Campaign:
        """Open the campaign in ``project`` (upgrading an older schema).

        Raises:
            NotACampaignError, CorruptDatabaseError, ForeignDatabaseError, NewerSchemaError.
        """
        project = Path(project).resolve()
        store = project_store(project)
        store.check()
        with store.begin() as connection:
            row = connection.execute(select(campaign.c.settings)).first()
        if row is None:
            raise NotACampaignError(f"database {store.describe()} holds no campaign settings")
        return cls(project, store, CampaignSettings.from_json(row.settings))

    def close(self) -> None:
        """Release database connections."""
        self.store.dispose()

    def source(self) -> PoolSource:
        """The pool source (opened once)."""
        if self._source is None:
            self._source = open_source(self.settings.source, self.classes)
        return self._source

    def decoder(self) -> Any:
        """The pool decoder (images: disk cache in ``project/cache``; features: the rows)."""
        from batchbald.data.source_data import pool_decoder

        if self._decoder is None:
            cache = self.project / "cache" / "pixels.npz"
            self._decoder = pool_decoder(self.source(), self.settings.image_format(), cache)
        return self._decoder

    def pool_data(self, decoded: Any, labels: dict[str, str]) -> Any:
        """:class:`~batchbald.data.ImageData` of a decoded pool with ``labels`` (id → class)."""
        from batchbald.data.source_data import pool_data

        fmt = self.settings.image_format()
        return pool_data(self.source(), decoded, fmt, self.classes, labels)

    def sync_pool(self) -> Any:
        """Rescan the source: new items join, vanished ones leave; a :class:`SyncReport`."""
        scanned = self.source().scan()
        with self.store.begin() as connection:
            return sync_items(connection, scanned, self.classes)

    def current_round(self) -> Round | None:
        """The latest proposed round (None before the first propose)."""
        with self.store.begin() as connection:
            return current_round(connection)

    def _answer(self, item_id: str, label: str | None, annotator: str, request_id: str | None):
        try:
            with self.store.begin() as connection:
                return labelling.record_answer(
                    connection, self.classes, item_id, label, annotator, request_id
                )
        except IntegrityError:  # the same request_id committed concurrently: return that one
            with self.store.begin() as connection:
                event = find_request(connection, request_id) if request_id else None
            if event is None:
                raise
            return event

    def record(
        self, item_id: str, label: str, annotator: str, *, request_id: str | None = None
    ) -> LabelEvent:
        """Label ``item_id`` (an item of the current round) as ``label``.

        Idempotent: the same ``request_id``, or the annotator's current answer already being
        this label, returns the recorded event without appending another.

        Raises:
            InvalidLabelError: label not in the classes, bad annotator name or request id.
            UnknownItemError: the item is not in the pool or not in the current round.
        """
        if label is None:
            raise labelling.InvalidLabelError(
                f"label must be one of {', '.join(self.classes)}; got None"
            )
        return self._answer(item_id, label, annotator, request_id)

    def skip(self, item_id: str, annotator: str, *, request_id: str | None = None) -> LabelEvent:
        """Record that ``annotator`` skips ``item_id`` (it is not trained on unless labelled)."""
        return self._answer(item_id, None, annotator, request_id)

    def undo(self, annotator: str, *, request_id: str | None = None) -> LabelEvent | None:
        """Cancel ``annotator``'s latest answer in the current round.

        Returns:
            The ``undo`` event (its ``item_id`` and ``undoes``), or None when there is nothing
            to undo.
        """
        with self.store.begin() as connection:
            return labelling.undo_last(connection, annotator, request_id)

    def labels(self) -> dict[str, str]:
        """Current labels: item → label (latest answer not undone; skipped items left out)."""
        with self.store.begin() as connection:
            answers = current_answers(connection)
        return {i: e.label for i, e in sorted(answers.items()) if e.kind == "label" and e.label}

    def answers(self) -> dict[str, Answer]:
        """The current answer of every answered item: item → :class:`Answer`.

        An item's answer is its latest label or skip, by anyone, that has not been undone
        (``kind``, ``label``, ``annotator``, ``answered_at``, ``round_number``); sorted by id.
        """
        with self.store.begin() as connection:
            answers = current_answers(connection)
        return {item: Answer.from_event(event) for item, event in sorted(answers.items())}

    def answers_by_annotator(self) -> dict[str, dict[str, Answer]]:
        """Each annotator's own current answer: item → annotator → :class:`Answer`."""
        with self.store.begin() as connection:
            answers = annotator_answers(connection)
        return {
            item: {who: Answer.from_event(e) for who, e in sorted(by_who.items())}
            for item, by_who in sorted(answers.items())
        }

    def history(self) -> list[LabelEvent]:
        """Every label event (labels, skips, undos), oldest first."""
        with self.store.begin() as connection:
            return all_events(connection)

    def progress(self) -> dict[str, Any]:
        """This round's progress.

        Returns:
            ``round``, ``done``, ``total``, ``skipped``, ``remaining`` (ids in pick order),
            ``per_class`` and ``per_annotator`` label counts (all rounds), ``assigned``.
        """
        with self.store.begin() as connection:
            return reports.progress(connection)

    def disagreements(self) -> list[dict[str, Any]]:
        """Items whose annotators' current labels differ."""
        with self.store.begin() as connection:
            return disagreements(connection)

    def assign(self, item_id: str, annotators: Sequence[str]) -> None:
        """Send an item of the current round to several annotators (``progress`` lists them)."""
        with self.store.begin() as connection:
            labelling.assign_item(connection, item_id, annotators)

    def propose(self, batch_size: int | None = None, *, on_progress: Any = None) -> Round:
        """Train on the labels so far, score the pool, record the next batch (one transaction).

        Raises:
            ProposeBusyError: another propose is running (any process).
            CampaignError: the pool is exhausted.
        """
        from batchbald.campaign.propose import run_propose

        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise labelling.InvalidLabelError(
                f"batch_size must be an int ≥ 1 or None; got {batch_size!r}"
            )
        return run_propose(self, batch_size, on_progress)

    def propose_state(self) -> lock.ProposeState:
        """``idle`` / ``running`` (phase, fraction) / ``failed`` (message), from the database."""
        with self.store.begin() as connection:
            return lock.read_state(connection)

    def image_bytes(self, item_id: str) -> tuple[bytes, str]:
        """The encoded image of a pool item and its media type.

        Raises:
            UnknownItemError: ``item_id`` is not an item of the pool (paths outside it included).
            UnreadableItemError: the file vanished or cannot be read.
        """
        with self.store.begin() as connection:
            row = connection.execute(
                select(items.c.present).where(items.c.item_id == item_id)
            ).first()
        if row is None or not row.present:
            raise UnknownItemError(f"item_id must name an item in the pool; got {item_id!r}")
        return self.source().read_bytes(item_id)

    def status(self) -> dict[str, Any]:
        """Labels per class and annotator, rounds, models and the accuracy estimate."""
        with self.store.begin() as connection:
            return reports.status(connection, self.settings)

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write the current labels as CSV rows ``item_id,label,annotator,labelled_at``.

        The file is written atomically; returns the number of rows.
        """
        with self.store.begin() as connection:
            return reports.export_csv(connection, Path(path))
