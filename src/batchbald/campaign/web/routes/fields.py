"""Reading a write's fields (a form or a JSON object) and answering it (JSON or a redirect)."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from batchbald.campaign.web.rendering import wants_json

__all__ = ["MAX_BODY_BYTES", "finish", "read_fields", "text_field"]

MAX_BODY_BYTES = 64 * 1024
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_fields(request: Request) -> dict[str, Any]:
    """The fields of a POST: a JSON object, or a form.

    Raises:
        HTTPException: 413 for a body over 64 KiB, 415 for another content type, 400 for
            JSON that is not an object.
    """
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"body must be at most {MAX_BODY_BYTES} bytes; got {len(body)}")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            fields = json.loads(body or b"{}")
        except ValueError as error:
            message = f"body must be a JSON object; got invalid JSON ({error})"
            raise HTTPException(400, message) from None
        if not isinstance(fields, dict):
            raise HTTPException(400, f"body must be a JSON object; got {type(fields).__name__}")
        return fields
    if content_type in _FORMS or (content_type == "" and not body):
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    raise HTTPException(
        415, f"Content-Type must be application/json or a form; got {content_type!r}"
    )


def text_field(fields: dict[str, Any], name: str, *, required: bool = True) -> Any:
    """``fields[name]``; a missing required field is an HTTP 400 naming it."""
    value = fields.get(name)
    if value is None and required:
        raise HTTPException(400, f"{name} must be given; got no {name!r} field")
    return value


def finish(request: Request, payload: dict[str, Any], location: str, status: int = 200) -> Response:
    """JSON ``payload`` for a script, or a 303 redirect to ``location`` for the page's forms."""
    if wants_json(request):
        return JSONResponse(payload, status_code=status)
    return RedirectResponse(location, status_code=303)
