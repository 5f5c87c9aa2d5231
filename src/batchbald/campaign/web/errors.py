"""HTTP statuses for the library's named errors, and the app's exception handlers.

Every error reaches the user as a 4xx response whose body states the library's message (which
names the argument, what was expected and what was received): an HTML page in the browser, JSON
for scripts.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from batchbald.campaign.errors import InvalidLabelError, ProposeBusyError, UnknownItemError
from batchbald.campaign.web.annotators import cookie_annotator
from batchbald.campaign.web.page import label_page
from batchbald.campaign.web.rendering import error_response, wants_json
from batchbald.errors import BatchBALDError, DataError, InvalidInputError, UnknownNameError

__all__ = ["EXCEPTION_HANDLERS", "status_for"]

# The first matching class wins; order from specific to general.
_STATUS_BY_CLASS: tuple[tuple[type[BaseException], int], ...] = (
    (UnknownItemError, 404),
    (InvalidLabelError, 422),
    (ProposeBusyError, 409),
    (UnknownNameError, 404),
    (InvalidInputError, 400),
    (DataError, 410),
    (BatchBALDError, 400),
)


def status_for(error: BaseException) -> int:
    """The HTTP status for a library error (400 when no rule is more specific).

    >>> status_for(ProposeBusyError("propose is running"))
    409
    """
    for kind, status in _STATUS_BY_CLASS:
        if isinstance(error, kind):
            return status
    return 400


async def _library_error(request: Request, error: Exception) -> Response:
    status, message = status_for(error), str(error)
    annotator = cookie_annotator(request)
    if request.method == "POST" and annotator is not None and not wants_json(request):
        try:  # a failed action: show the labelling page again, the message above it
            banner = {"status": status, "message": message}
            return await label_page(request, annotator, error=banner, status=status)
        except BatchBALDError:
            pass
    return error_response(request, status, message, error_type=type(error).__name__)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    message = error.detail if error.status_code != 404 else _not_found(request)
    return error_response(request, error.status_code, message)


def _not_found(request: Request) -> str:
    return f"path must name a page of this campaign; got {request.url.path!r}"


EXCEPTION_HANDLERS = {BatchBALDError: _library_error, HTTPException: _http_error}
