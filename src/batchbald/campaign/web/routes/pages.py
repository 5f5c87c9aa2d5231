"""Pages: the labelling page (``/``) and the disagreements list (``/disagreements``)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from batchbald.campaign.web.annotators import cookie_annotator
from batchbald.campaign.web.page import label_page
from batchbald.campaign.web.rendering import render
from batchbald.campaign.web.views import image_url, page_url

__all__ = ["routes"]


async def labelling(request: Request) -> Response:
    """The labelling page; asks for the annotator's name first when the browser has none."""
    annotator = cookie_annotator(request)
    if annotator is None:
        return RedirectResponse("/annotator", status_code=303)
    return await label_page(request, annotator, focus_id=request.query_params.get("item"))


async def disagreements(request: Request) -> Response:
    """Items whose annotators' current labels differ, with every annotator's label."""
    rows = await run_in_threadpool(request.app.state.campaign.disagreements)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"disagreements": rows})
    shown = [
        {**row, "image_url": image_url(row["item_id"]), "page_url": page_url(row["item_id"])}
        for row in rows
    ]
    return render(request, "disagreements.html", {"rows": shown})


async def labels(request: Request) -> Response:
    """``{"labels": {item_id: label}}``: every item's current label (``Campaign.labels``)."""
    return JSONResponse({"labels": await run_in_threadpool(request.app.state.campaign.labels)})


async def no_icon(request: Request) -> Response:
    """No favicon (204: the browser stops asking, and nothing is logged as missing)."""
    return Response(status_code=204)


routes = [
    Route("/", labelling, methods=["GET"]),
    Route("/favicon.ico", no_icon, methods=["GET"]),
    Route("/disagreements", disagreements, methods=["GET"]),
    Route("/api/disagreements", disagreements, methods=["GET"]),
    Route("/api/labels", labels, methods=["GET"]),
]
