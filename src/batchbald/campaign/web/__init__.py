"""The labelling web page of a campaign (``batchbald campaign serve PROJECT``).

A Starlette app (:func:`create_app`) renders the current round on the server, with a little
JavaScript for keyboard shortcuts (1–9 label, s skip, u undo, ← → move, p propose); every page
also works by Tab and Enter alone. The state comes from the campaign database on each request,
so several annotators (and several servers on one database) stay consistent. See
``docs/campaign_page.md``.

Needs the optional extra ``web`` (``pip install 'batchbald[web]'``).
"""

from batchbald.campaign.web.server import address, serve
from batchbald.campaign.web.settings import WebSettings

__all__ = ["WebSettings", "address", "create_app", "serve"]


def __getattr__(name: str):
    """``create_app`` imported on first use (it needs the ``web`` extra)."""
    if name == "create_app":
        from batchbald.campaign.web.app import create_app

        return create_app
    raise AttributeError(name)
