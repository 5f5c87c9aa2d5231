"""Who is labelling: the annotator's name, asked once and kept in a cookie.

Names follow the campaign's rule (:func:`batchbald.campaign.settings.check_annotator`: 1–64
letters, digits and ``. _ @ -``). A script names its annotator in each request's
``annotator`` field instead.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from batchbald.campaign.errors import InvalidLabelError
from batchbald.campaign.settings import check_annotator

__all__ = ["ANNOTATOR_COOKIE", "annotator_for", "cookie_annotator", "forget", "remember"]

ANNOTATOR_COOKIE = "batchbald_annotator"
_YEAR_S = 365 * 24 * 3600


def cookie_annotator(request: Request) -> str | None:
    """The name in the request's cookie, or None when it is missing or not a valid name."""
    name = request.cookies.get(ANNOTATOR_COOKIE)
    try:
        return check_annotator(name) if name else None
    except InvalidLabelError:
        return None


def annotator_for(request: Request, fields: dict[str, Any]) -> str:
    """The annotator of a write: the ``annotator`` field if sent, else the cookie's name.

    Raises:
        InvalidLabelError: neither names a valid annotator (the message says which rule).
    """
    name = fields.get("annotator")
    if name is None:
        name = cookie_annotator(request)
    if name is None:
        raise InvalidLabelError(
            "annotator must name who is labelling (send an 'annotator' field, or enter your name "
            "on the page); got none"
        )
    return check_annotator(name)


def remember(response: Response, name: str) -> Response:
    """``response`` with the cookie that keeps ``name`` for a year."""
    response.set_cookie(ANNOTATOR_COOKIE, name, max_age=_YEAR_S, samesite="strict")
    return response


def forget(response: Response) -> Response:
    """``response`` with the annotator cookie removed."""
    response.delete_cookie(ANNOTATOR_COOKIE, samesite="strict")
    return response
