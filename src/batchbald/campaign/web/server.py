"""``serve``: run the labelling page with uvicorn (``batchbald campaign serve PROJECT``)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from batchbald.campaign.errors import CampaignError
from batchbald.campaign.web.settings import WebSettings
from batchbald.errors import InvalidInputError

__all__ = ["address", "serve"]


def address(settings: WebSettings) -> str:
    """The address a person opens (with ``?token=`` when the server has a token)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    query = f"?token={settings.token}" if settings.token else ""
    return f"http://{host}:{settings.port}/{query}"


def _check_port(settings: WebSettings) -> None:
    """A clear error now for a port that is taken, instead of uvicorn's exit later."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            raise InvalidInputError(
                f"port must be free on {settings.host}; got {settings.port}, which is not "
                f"({error.strerror}). Choose another with --port"
            ) from None


def serve(
    project: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    *,
    poll_seconds: float = 2.0,
) -> None:
    """Serve the campaign in ``project`` until interrupted (Ctrl-C).

    Args:
        project: the campaign's project folder.
        host: the address to listen on; 127.0.0.1 (this machine only) by default.
        port: the TCP port.
        token: the access token, required (≥ 16 characters) on a non-local ``host``.
        poll_seconds: how often open pages refresh the shared state.

    Raises:
        InvalidInputError: a non-local ``host`` without a token, a bad or busy port, a bad
            token.
        CampaignError: the ``web`` extra is not installed.
        NotACampaignError, CorruptDatabaseError, NewerSchemaError: from ``Campaign.open``.
    """
    settings = WebSettings(Path(project), host, port, token, poll_seconds)
    try:
        import uvicorn

        from batchbald.campaign.web.app import create_app
    except ImportError as error:
        raise CampaignError(
            "serve needs the optional 'web' dependencies (pip install 'batchbald[web]'); "
            f"got {error}"
        ) from None
    _check_port(settings)
    app = create_app(settings)
    print(f"Labelling page: {address(settings)}  (Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
