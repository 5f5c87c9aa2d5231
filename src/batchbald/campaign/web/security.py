"""Access control: the token, the Host header and the origin of writes.

- **Token.** When the server has an access token, every request must carry it: the
  ``Authorization: Bearer TOKEN`` header, the cookie this middleware sets, or ``?token=TOKEN``
  in the address (which sets the cookie and redirects to the same address without it).
- **Host.** On a local address only local host names are answered (a web page elsewhere cannot
  reach the server through a DNS name that resolves to 127.0.0.1).
- **Origin.** A write (POST) whose ``Origin`` header names another site is refused, so another
  page open in the same browser cannot submit labels.
- **Headers.** No response may be framed by another page, and pages load scripts and styles
  from this server only.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchbald.campaign.web.rendering import error_response
from batchbald.campaign.web.settings import WebSettings, is_local_host

__all__ = ["TOKEN_COOKIE", "AccessMiddleware"]

TOKEN_COOKIE = "batchbald_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Every response: never framed by another page (no clickjacking of the keyboard shortcuts),
# scripts and styles only from this server, no guessing of content types.
_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy",
     b"default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would send Origin: null
)  # fmt: skip


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
        await send(message)

    return sending


def _host_name(host_header: str) -> str:
    """``host`` of a ``host[:port]`` header (IPv6 in brackets)."""
    return urlsplit(f"//{host_header}").hostname or ""


class AccessMiddleware:
    """ASGI middleware applying the token, Host and Origin rules of :mod:`.security`."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        """Wrap ``app`` with the rules for ``settings`` (its host and token)."""
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request with a refusal, a token redirect, or ``app``'s answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._refusal(request)
        guarded = _with_headers(send)
        if response is None:
            await self.app(scope, receive, guarded)
            return
        await response(scope, receive, guarded)

    def _refusal(self, request: Request) -> Response | None:
        host = _host_name(request.headers.get("host", ""))
        if is_local_host(self.settings.host) and not is_local_host(host):
            return error_response(
                request, 403, f"Host must be a local name (localhost, 127.0.0.1); got {host!r}"
            )
        if self.settings.token is not None:
            refusal = self._check_token(request)
            if refusal is not None:
                return refusal
        if request.method not in _SAFE_METHODS:
            return self._check_origin(request)
        return None

    def _check_token(self, request: Request) -> Response | None:
        token = self.settings.token
        assert token is not None
        offered = request.query_params.get("token")
        if offered is not None and hmac.compare_digest(offered.encode(), token.encode()):
            if request.method in _SAFE_METHODS:
                return self._token_accepted(request)
            return None
        header = request.headers.get("authorization", "")
        cookie = request.cookies.get(TOKEN_COOKIE, "")
        for candidate in (header.removeprefix("Bearer ").strip(), cookie):
            if candidate and hmac.compare_digest(candidate.encode(), token.encode()):
                return None
        got = "a wrong token" if (offered or header or cookie) else "none"
        return error_response(
            request,
            401,
            f"token must be this server's access token (open the address with ?token=TOKEN, "
            f"or send 'Authorization: Bearer TOKEN'); got {got}",
        )

    def _token_accepted(self, request: Request) -> Response:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            TOKEN_COOKIE, self.settings.token or "", httponly=True, samesite="strict"
        )
        return response

    def _check_origin(self, request: Request) -> Response | None:
        origin = request.headers.get("origin")
        if origin is None:  # not sent by a browser (a script, curl): the token rule applies
            return None
        expected = request.headers.get("host", "")
        if urlsplit(origin).netloc != expected:
            return error_response(
                request,
                403,
                f"Origin must be this server ({expected}) for a write; got {origin!r}",
            )
        return None
