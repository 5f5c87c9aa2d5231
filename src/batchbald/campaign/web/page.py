"""The labelling page, rendered for one annotator (with an error banner when an action failed)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from batchbald.campaign.web.rendering import render
from batchbald.campaign.web.views import label_view

__all__ = ["label_page"]


async def label_page(
    request: Request,
    annotator: str,
    *,
    focus_id: str | None = None,
    error: dict[str, object] | None = None,
    status: int = 200,
) -> Response:
    """The page for ``annotator``, focused on ``focus_id`` (default: the next item to answer).

    Args:
        request: the request being answered.
        annotator: a validated annotator name.
        focus_id: the item to show large.
        error: ``{"status", "message"}`` of a failed action, shown above the page.
        status: the HTTP status of the response.
    """
    state = request.app.state
    view = await run_in_threadpool(label_view, state.campaign, annotator, focus_id, state.runner)
    return render(request, "label.html", {"view": view, "error": error}, status=status)
