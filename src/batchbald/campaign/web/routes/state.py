"""The shared state an open page polls: ``/api/state``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from batchbald.campaign.settings import check_annotator
from batchbald.campaign.web.annotators import cookie_annotator
from batchbald.campaign.web.views import label_view, state_json

__all__ = ["routes"]


async def state(request: Request) -> Response:
    """The round, every item's answers, counts, the proposal's state and ``version``.

    ``mine`` is the answer of the annotator named by ``?annotator=`` or the cookie.
    """
    name = request.query_params.get("annotator")
    annotator = check_annotator(name) if name is not None else cookie_annotator(request)
    app_state = request.app.state
    view = await run_in_threadpool(
        label_view, app_state.campaign, annotator, None, app_state.runner
    )
    return JSONResponse(state_json(view))


routes = [Route("/api/state", state, methods=["GET"])]
