"""Proposals: start proposing the next batch in the background, and read its progress."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from batchbald.campaign.web.routes.fields import finish, read_fields
from batchbald.campaign.web.views import propose_view
from batchbald.errors import InvalidInputError

__all__ = ["routes"]


def _batch_size(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise InvalidInputError(f"batch_size must be a whole number ≥ 1; got {value!r}")
    return number


async def start(request: Request) -> Response:
    """Start ``Campaign.propose`` in the background (409 while one runs); 202 for JSON."""
    fields = await read_fields(request)
    batch_size = _batch_size(fields.get("batch_size"))
    state = request.app.state
    await run_in_threadpool(state.runner.start, state.campaign, batch_size)
    view = await run_in_threadpool(propose_view, state.campaign, state.runner)
    return finish(request, {"propose": view}, "/", status=202)


async def progress(request: Request) -> Response:
    """The proposal's state: idle, running (phase, fraction) or failed (message)."""
    state = request.app.state
    view = await run_in_threadpool(propose_view, state.campaign, state.runner)
    return JSONResponse({"propose": view})


routes = [
    Route("/propose", start, methods=["POST"]),
    Route("/api/propose", start, methods=["POST"]),
    Route("/api/propose", progress, methods=["GET"]),
]
