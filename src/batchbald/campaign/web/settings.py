"""The web server's settings: which project, where to listen, and the access token.

The server listens on 127.0.0.1 unless told otherwise. On any other address it refuses to start
without an access token, and with one it asks for the token on every request
(:mod:`batchbald.campaign.web.security`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from batchbald.errors import InvalidInputError

__all__ = ["MIN_TOKEN_LENGTH", "WebSettings", "is_local_host"]

MIN_TOKEN_LENGTH = 16
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this machine only (a loopback address or ``localhost``).

    >>> is_local_host("127.0.0.1"), is_local_host("::1"), is_local_host("0.0.0.0")
    (True, True, False)
    """
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebSettings:
    """Where and how the labelling page is served.

    Attributes:
        project: the campaign's project (a folder or file that ``Campaign.open`` accepts).
        host: the address to listen on; 127.0.0.1 (this machine only) by default.
        port: the TCP port, 1–65535 (0 lets the system pick one).
        token: the access token; required when ``host`` is not a loopback address, and then
            asked for on every request. At least 16 characters.
        poll_seconds: how often an open page asks the server for the shared state (labels by
            other annotators, the proposal's progress).
    """

    project: str | Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    poll_seconds: float = 2.0

    def __post_init__(self) -> None:
        """Check every field (InvalidInputError naming the field)."""
        if not isinstance(self.host, str) or not self.host.strip():
            raise InvalidInputError(f"host must be a non-empty address; got {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise InvalidInputError(f"port must be an integer 0–65535; got {self.port!r}")
        if not 0 <= self.port <= 65535:
            raise InvalidInputError(f"port must be an integer 0–65535; got {self.port}")
        if not self.poll_seconds > 0:
            raise InvalidInputError(f"poll_seconds must be > 0; got {self.poll_seconds!r}")
        self._check_token()

    def _check_token(self) -> None:
        if self.token is None:
            if not is_local_host(self.host):
                raise InvalidInputError(
                    f"token is required to serve on the non-local address {self.host!r}: "
                    "anyone who can reach it could read the images and write labels. Pass "
                    "--token SECRET (at least 16 characters), or serve on 127.0.0.1"
                )
            return
        if not isinstance(self.token, str) or len(self.token) < MIN_TOKEN_LENGTH:
            shown = len(self.token) if isinstance(self.token, str) else type(self.token).__name__
            raise InvalidInputError(
                f"token must be a string of at least {MIN_TOKEN_LENGTH} characters; got {shown}"
                + (" characters" if isinstance(self.token, str) else "")
            )
        if not self.token.isprintable() or any(c.isspace() for c in self.token):
            raise InvalidInputError(
                "token must be printable characters without spaces; got one with spaces or "
                "control characters"
            )
