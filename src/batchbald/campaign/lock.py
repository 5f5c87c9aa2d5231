"""The ``propose`` lock and its visible state: one ``propose_state`` row shared by all processes.

Taking the lock is a conditional ``UPDATE ... WHERE state != 'running'`` (atomic on SQLite and
PostgreSQL), so two ``propose`` calls in any two processes cannot both run. The running process
writes its phase and fraction to the row, which the web server reads to show progress. A lock
whose owner died (``kill -9``: same host and its pid is gone, or no heartbeat for
:data:`STALE_AFTER_S`) counts as failed and may be taken over.
"""

from __future__ import annotations

import datetime
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from batchbald.campaign.errors import ProposeBusyError
from batchbald.campaign.schema import propose_state
from batchbald.campaign.store import Store, now

__all__ = ["STALE_AFTER_S", "ProposeState", "new_owner", "read_state", "take_lock"]

STALE_AFTER_S = 900.0


@dataclass(frozen=True)
class ProposeState:
    """What ``propose`` is doing.

    ``state`` is "idle", "running" (``phase``, ``fraction``) or "failed" (``message``);
    ``owner`` is host:pid:token of the running process.
    """

    state: str
    phase: str | None = None
    fraction: float | None = None
    message: str | None = None
    owner: str | None = None
    started_at: str | None = None
    heartbeat_at: str | None = None


def new_owner() -> str:
    """host:pid:random, naming this propose."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _owner_dead(state: ProposeState) -> bool:
    if state.owner is None:
        return True
    host, _, rest = state.owner.partition(":")
    pid = int(rest.partition(":")[0] or 0)
    if host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    beat = datetime.datetime.fromisoformat(state.heartbeat_at or state.started_at or now())
    age = datetime.datetime.now(datetime.timezone.utc) - beat
    return age.total_seconds() > STALE_AFTER_S


def _read(connection: Connection) -> ProposeState:
    row = connection.execute(select(propose_state).where(propose_state.c.id == 1)).one()
    return ProposeState(
        row.state, row.phase, row.fraction, row.message, row.owner, row.started_at, row.heartbeat_at
    )


def read_state(connection: Connection) -> ProposeState:
    """The state as others should see it (a dead owner's "running" reads as "failed")."""
    state = _read(connection)
    if state.state == "running" and _owner_dead(state):
        return ProposeState(
            "failed",
            state.phase,
            state.fraction,
            f"the propose started at {state.started_at} stopped during {state.phase} "
            "without finishing (process killed?); no round was written; propose again",
            state.owner,
            state.started_at,
            state.heartbeat_at,
        )
    return state


def take_lock(store: Store, owner: str) -> None:
    """Mark ``owner`` as the running propose, or raise :class:`ProposeBusyError`."""
    stamp = now()
    values = {
        "state": "running",
        "phase": "starting",
        "fraction": 0.0,
        "message": None,
        "owner": owner,
        "started_at": stamp,
        "heartbeat_at": stamp,
    }
    with store.begin() as connection:
        current = _read(connection)
        condition = propose_state.c.state != "running"
        if current.state == "running" and _owner_dead(current):
            condition = propose_state.c.owner == current.owner  # take over a dead owner's lock
        done = connection.execute(
            update(propose_state).where(propose_state.c.id == 1, condition).values(**values)
        )
        if done.rowcount == 1:
            return
    raise ProposeBusyError(
        f"propose: another propose is running on this campaign (owner {current.owner}, phase "
        f"{current.phase}, since {current.started_at}); wait for it to finish"
    )


def set_progress(store: Store, owner: str, phase: str, fraction: float) -> None:
    """Publish the running propose's phase (also its heartbeat)."""
    with store.begin() as connection:
        connection.execute(
            update(propose_state)
            .where(propose_state.c.id == 1, propose_state.c.owner == owner)
            .values(phase=phase, fraction=fraction, heartbeat_at=now())
        )


def release(connection: Connection, owner: str, state: str, message: str) -> None:
    """End ``owner``'s propose with ``state`` "idle" or "failed" (inside a caller's transaction)."""
    connection.execute(
        update(propose_state)
        .where(propose_state.c.id == 1, propose_state.c.owner == owner)
        .values(state=state, message=message, fraction=1.0 if state == "idle" else None)
    )
