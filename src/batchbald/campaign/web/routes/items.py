"""Items: the image of a pool item, and nothing else.

``/items/<item id>`` answers only for ids of the campaign's pool (``Campaign.image_bytes``
looks the id up in the database before reading): any other path, ``../`` and encoded
``%2e%2e`` traversal and absolute paths included, is a 404.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from batchbald.campaign.errors import UnknownItemError

__all__ = ["routes"]


async def image(request: Request) -> Response:
    """The item's encoded image with its media type (404 for anything not in the pool)."""
    item_id = request.path_params["item_id"]
    data, media_type = await run_in_threadpool(request.app.state.campaign.image_bytes, item_id)
    if not media_type.startswith("image/"):
        raise UnknownItemError(f"item_id must name an image of the pool; got {item_id!r}")
    headers = {"Cache-Control": "private, max-age=300"}
    return Response(data, media_type=media_type, headers=headers)


routes = [Route("/items/{item_id:path}", image, methods=["GET"])]
