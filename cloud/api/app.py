"""``create_app(settings)``: the FastAPI application of the query API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool

from cloud.api.dashboard import missing_asset_message, mount_dashboard
from cloud.api.deps import ApiState
from cloud.api.routers import footfall, heatmap, layout, overview, visitors, zones
from cloud.db import connect
from cloud.migrate import migrate
from cloud.settings import AnalyticsSettings
from footfall.site import Site

PREFIX = "/v1/sites/{site}"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    database_url: str
    sites: Sequence[Site]
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    pool_size: int = 4


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with connect(settings.database_url) as conn:
            migrate(conn)
        problem = missing_asset_message()
        if problem:
            log.warning("dashboard unavailable: %s", problem)
        pool: ConnectionPool = ConnectionPool(
            settings.database_url,
            min_size=1,
            max_size=settings.pool_size,
            kwargs={"autocommit": True},
            open=True,
        )
        app.state.footfall = ApiState(pool, {s.id: s for s in settings.sites}, settings.analytics)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="footfall",
        version="1",
        description="Footfall, occupancy, dwell, heatmaps and flows per site. "
        "Send the site's API key in the X-API-Key header.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"] if p != "query")
            problems.append(f"{where}: {e['msg']}")
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    for module in (footfall, zones, heatmap, visitors, overview, layout):
        app.include_router(module.router, prefix=PREFIX)
    mount_dashboard(app)
    return app
