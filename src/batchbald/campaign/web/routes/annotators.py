"""The annotator resource: enter a name (kept in a cookie), or forget it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from batchbald.campaign.errors import InvalidLabelError
from batchbald.campaign.settings import check_annotator
from batchbald.campaign.web.annotators import cookie_annotator, forget, remember
from batchbald.campaign.web.rendering import render, wants_json
from batchbald.campaign.web.routes.fields import read_fields

__all__ = ["routes"]


async def ask_name(request: Request) -> Response:
    """The form asking who is labelling."""
    return render(request, "annotator.html", {"name": cookie_annotator(request)})


async def set_name(request: Request) -> Response:
    """Keep a valid name in the cookie and go to the labelling page; a bad one gets a 422."""
    fields = await read_fields(request)
    given = fields.get("annotator")
    try:
        name = check_annotator(given.strip() if isinstance(given, str) else given)
    except InvalidLabelError as error:
        if wants_json(request):
            return JSONResponse({"error": str(error), "status": 422}, status_code=422)
        context = {"name": given, "error": {"status": 422, "message": str(error)}}
        return render(request, "annotator.html", context, status=422)
    response: Response = (
        JSONResponse({"annotator": name})
        if wants_json(request)
        else RedirectResponse("/", status_code=303)
    )
    return remember(response, name)


async def forget_name(request: Request) -> Response:
    """Forget this browser's name (to label under another one)."""
    return forget(RedirectResponse("/annotator", status_code=303))


routes = [
    Route("/annotator", ask_name, methods=["GET"]),
    Route("/annotator", set_name, methods=["POST"]),
    Route("/annotator/forget", forget_name, methods=["POST"]),
]
