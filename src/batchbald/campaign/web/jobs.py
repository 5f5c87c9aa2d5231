"""Proposing the next batch in the background while the page stays usable.

``Campaign.propose`` (train on the labels so far, score the pool, record the next round) runs in
a daemon thread of the server with its own database connections. Its progress is the campaign's
persisted ``propose_state``, which every page polls, so every annotator (and every server on the
same database) sees it. Only one proposal runs at a time: this server refuses a second one while
its thread lives, and the campaign's database lock refuses one running anywhere else.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from batchbald.campaign import Campaign, ProposeBusyError

__all__ = ["ProposeRunner"]

_log = logging.getLogger(__name__)


class ProposeRunner:
    """Runs ``Campaign.propose`` in one background thread at a time.

    Args:
        open_campaign: opens the campaign afresh (the thread's own connections).
    """

    def __init__(self, open_campaign: Callable[[], Campaign]) -> None:
        """See the class docstring."""
        self._open = open_campaign
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        """Whether this server's proposal thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, campaign: Campaign, batch_size: int | None = None) -> None:
        """Start proposing the next batch in the background.

        Args:
            campaign: the server's campaign, read to refuse a proposal already running.
            batch_size: items to pick (None: the campaign's batch size).

        Raises:
            ProposeBusyError: a proposal is running (here, or in another process).
        """
        with self._lock:
            state = campaign.propose_state()
            if self.running or state.state == "running":
                phase = f" ({state.phase}, {round(100 * (state.fraction or 0))}%)"
                raise ProposeBusyError(
                    "propose: expected no proposal running; got one running"
                    + (phase if state.state == "running" else "")
                    + ". Wait for it to finish: the page shows its progress"
                )
            self.error = None
            self._thread = threading.Thread(
                target=self._run, args=(batch_size,), name="batchbald-propose", daemon=True
            )
            self._thread.start()

    def _run(self, batch_size: int | None) -> None:
        campaign = None
        try:
            campaign = self._open()
            campaign.propose(batch_size)
        except ProposeBusyError:  # another process took the lock first: the page shows its run
            _log.info("propose: another process is proposing; this request joins its progress")
        except Exception as error:
            _log.exception("propose failed")
            self.error = f"{type(error).__name__}: {error}"
        finally:
            if campaign is not None:
                campaign.close()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running proposal (tests, shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
