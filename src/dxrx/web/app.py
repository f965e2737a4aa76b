"""The ASGI application: REST API, CDS Hooks service, UI, offline docs and the middleware."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dxrx import __version__
from dxrx.kb import load_kb
from dxrx.store import Store
from dxrx.web import api, cds
from dxrx.web.docs import install_docs
from dxrx.web.errors import install_error_handlers
from dxrx.web.middleware import (
    AccessLogMiddleware,
    AuthMiddleware,
    BodyLimitMiddleware,
    RateLimitMiddleware,
    ResponseHeadersMiddleware,
)
from dxrx.web.security import RateLimiter
from dxrx.web.settings import Settings

log = logging.getLogger("dxrx.web")


def _include_ui(app: FastAPI) -> None:
    """The UI router and its static files, when the UI package part is present."""
    if importlib.util.find_spec("dxrx.web.ui") is not None:
        ui = importlib.import_module("dxrx.web.ui")
        app.include_router(ui.router)
    static = resources.files("dxrx.web") / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=str(static)), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The dxrx web app for ``settings`` (read from the environment when None).

    Opens the store and migrates its database to the newest schema first, so
    a server never runs against an old one. Raises ValueError for settings a
    server must not start with (e.g. a public address without a token).
    """
    settings = settings or Settings()
    problems = settings.problems()
    if problems:
        raise ValueError("; ".join(problems))
    store = Store(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        load_kb()  # warm the cache so the first request is not the slow one
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="dxrx",
        version=__version__,
        description=(
            "Offline, explainable work-up of musculoskeletal and peripheral-nerve cases. "
            "Decision support and teaching, not a diagnosis."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)

    install_error_handlers(app)
    install_docs(app)
    app.include_router(api.router)
    app.include_router(cds.router)
    _include_ui(app)

    # added innermost first: the last one added runs first
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuthMiddleware, settings=settings)
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter, settings=settings)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(ResponseHeadersMiddleware)
    return app
