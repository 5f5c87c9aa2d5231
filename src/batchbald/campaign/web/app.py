"""The application factory: one Starlette app serving one campaign."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from batchbald.campaign import Campaign
from batchbald.campaign.web.errors import EXCEPTION_HANDLERS
from batchbald.campaign.web.jobs import ProposeRunner
from batchbald.campaign.web.routes import annotators, answers, items, pages, proposals, state
from batchbald.campaign.web.security import AccessMiddleware
from batchbald.campaign.web.settings import WebSettings

__all__ = ["create_app"]

_STATIC = Path(__file__).parent / "static"


def create_app(settings: WebSettings, campaign: Campaign | None = None) -> Starlette:
    """The labelling web app for ``settings.project``.

    Args:
        settings: the project, address, token and poll interval.
        campaign: an already open campaign of ``settings.project`` (default: open it now).

    Returns:
        An ASGI app (serve it with :func:`batchbald.campaign.web.serve`, or any ASGI server).

    Raises:
        NotACampaignError, CorruptDatabaseError, NewerSchemaError: from ``Campaign.open``.
    """
    opened = campaign or Campaign.open(settings.project)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.runner.join(timeout=0)
        opened.close()

    routes = [
        *pages.routes,
        *annotators.routes,
        *answers.routes,
        *items.routes,
        *proposals.routes,
        *state.routes,
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessMiddleware, settings=settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.campaign = opened
    app.state.runner = ProposeRunner(lambda: Campaign.open(opened.project))
    app.state.site = {"project_name": opened.project.name, "poll_seconds": settings.poll_seconds}
    return app
