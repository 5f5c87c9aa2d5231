"""Answers: label, skip and undo an item of the current round; send an item to annotators.

Each write is one ``Campaign`` call (one transaction) carrying the page's ``request_id``, so a
double click or a retried request is recorded once. Forms are redirected to the next item
(post/redirect/get); JSON requests get the recorded event.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchbald.campaign.web.annotators import annotator_for
from batchbald.campaign.web.routes.fields import finish, read_fields, text_field
from batchbald.campaign.web.views import page_url

__all__ = ["routes"]


def _event(event: Any) -> dict[str, Any] | None:
    return None if event is None else asdict(event)


async def label(request: Request) -> Response:
    """Record ``label`` for ``item_id`` by the annotator (fields: item_id, label, request_id)."""
    fields = await read_fields(request)
    annotator = annotator_for(request, fields)
    item_id, value = text_field(fields, "item_id"), text_field(fields, "label")
    event = await run_in_threadpool(
        request.app.state.campaign.record,
        item_id,
        value,
        annotator,
        request_id=fields.get("request_id"),
    )
    return finish(request, {"event": _event(event)}, "/")


async def skip(request: Request) -> Response:
    """Record that the annotator skips ``item_id`` (fields: item_id, request_id)."""
    fields = await read_fields(request)
    annotator = annotator_for(request, fields)
    item_id = text_field(fields, "item_id")
    event = await run_in_threadpool(
        request.app.state.campaign.skip, item_id, annotator, request_id=fields.get("request_id")
    )
    return finish(request, {"event": _event(event)}, "/")


async def undo(request: Request) -> Response:
    """Cancel the annotator's latest answer in this round; the page then shows that item."""
    fields = await read_fields(request)
    annotator = annotator_for(request, fields)
    event = await run_in_threadpool(
        request.app.state.campaign.undo, annotator, request_id=fields.get("request_id")
    )
    location = page_url(event.item_id) if event is not None else "/"
    return finish(request, {"event": _event(event)}, location)


def _names(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [name.strip() for name in value.replace(";", ",").split(",") if name.strip()]
    return list(value) if isinstance(value, list) else [value]


async def assign(request: Request) -> Response:
    """Send ``item_id`` to several annotators (fields: item_id, annotators: list or "a, b")."""
    fields = await read_fields(request)
    item_id = text_field(fields, "item_id")
    names = _names(text_field(fields, "annotators"))
    await run_in_threadpool(request.app.state.campaign.assign, item_id, names)
    return finish(request, {"item_id": item_id, "annotators": names}, page_url(item_id))


routes = [
    Route(path, endpoint, methods=["POST"])
    for name, endpoint in (
        ("labels", label),
        ("skips", skip),
        ("undo", undo),
        ("assignments", assign),
    )
    for path in (f"/{name}", f"/api/{name}")
]
