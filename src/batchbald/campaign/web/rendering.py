"""Rendering: the page templates, and the choice between an HTML page and JSON.

A request gets JSON when it sent JSON or asks for it (``Accept: application/json``, or a path
under ``/api/``); otherwise it gets an HTML page. Errors follow the same rule, so the page shows
the message and a script reads it from the JSON body.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.templating import Jinja2Templates

__all__ = ["duration", "error_response", "render", "templates", "wants_json"]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def duration(seconds: float | None) -> str:
    """``m:ss`` of a number of seconds ("" for None).

    >>> duration(75.4), duration(None)
    ('1:15', '')
    """
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


templates.env.filters["duration"] = duration

_REASONS = {
    400: "Bad request",
    401: "Access token needed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Not accepted",
    500: "Server error",
}


def wants_json(request: Request) -> bool:
    """Whether to answer ``request`` with JSON rather than an HTML page."""
    if request.url.path.startswith("/api/"):
        return True
    content_type = request.headers.get("content-type", "")
    accept = request.headers.get("accept", "")
    return content_type.startswith("application/json") or (
        "application/json" in accept and "text/html" not in accept
    )


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """The template ``name`` rendered with ``context`` (plus the app's ``site`` values)."""
    site = getattr(request.app.state, "site", {})
    full = {"site": site, **context}
    return templates.TemplateResponse(request, name, full, status_code=status)


def error_response(request: Request, status: int, message: str, **details: Any) -> Response:
    """An error as JSON (``{"error": message, "status": status, ...}``) or as an HTML page.

    Args:
        request: the request that failed.
        status: the HTTP status, 4xx for the client's mistakes.
        message: one sentence naming the argument, what was expected and what was received.
        **details: extra JSON fields (e.g. ``error_type``).
    """
    if wants_json(request):
        return JSONResponse({"error": message, "status": status, **details}, status_code=status)
    context = {"status": status, "reason": _REASONS.get(status, "Error"), "message": message}
    try:
        return render(request, "error.html", context, status=status)
    except Exception:
        return HTMLResponse(f"<h1>{status}</h1><p>{html.escape(message)}</p>", status_code=status)
