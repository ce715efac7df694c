"""``create_app(settings)``: the FastAPI application of the query API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cloud.analytics.rules import agree_rules
from cloud.api.auth import FailedKeyLimiter, KeyCache, RevocationListener
from cloud.api.dashboard import missing_asset_message, mount_dashboard
from cloud.api.database import Conn, Database, DatabaseLimits, Unavailable
from cloud.api.deps import ERROR_RESPONSES, ApiState, Problem
from cloud.api.live import LiveOccupancy
from cloud.api.routers import (
    alerts,
    compare,
    conversion,
    footfall,
    heatmap,
    layout,
    overview,
    portfolio,
    reports,
    visitors,
    zones,
)
from cloud.db import connect
from cloud.migrate import migrate
from cloud.settings import AnalyticsSettings
from cloud.site_configs import LiveSites
from cloud.transport.kafka import BrokerError, list_topics
from footfall.site import Site
from footfall.site.folder import SitesWatch

PREFIX = "/v1/sites/{site}"


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    broker: str = Field(description="ok, or 'not checked' when the API was given no broker.")


def _ping(conn: Conn) -> None:
    conn.execute("SELECT 1")


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    database_url: str
    sites: Sequence[Site]
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    limits: DatabaseLimits = field(default_factory=DatabaseLimits)
    stream_tick_s: float = 1.0
    """Live occupancy is computed once per site per tick, for all its open streams."""
    stream_lifetime_s: float = 3600.0
    """A live stream ends after this long (the dashboard reconnects), so none lives forever."""
    key_cache_s: float = 60.0
    """A key is looked up once per this long; a revoked or expired one is refused at once."""
    failed_keys_per_minute: int = 30
    """Wrong keys one client address may send a minute before it gets 429."""
    bootstrap_servers: str | None = None
    """The broker ``/readyz`` checks too (None: the database only)."""
    watch: SitesWatch | None = None
    """Where site files added or changed later come from, read every
    ``analytics.sites_rescan_s`` (None: only ``sites``)."""


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with connect(settings.database_url) as conn:
            migrate(conn)
            for site in settings.sites:  # never serve numbers derived with other rules
                agree_rules(conn, site)
        problem = missing_asset_message()
        if problem:
            log.warning("dashboard unavailable: %s", problem)
        db = Database(settings.database_url, settings.limits)
        db.open()
        live = LiveOccupancy(db, settings.analytics.occupancy_stale_s, settings.stream_tick_s)
        keys = KeyCache(settings.key_cache_s)
        revocations = RevocationListener(settings.database_url, keys)
        app.state.footfall = ApiState(
            db,
            {s.id: s for s in settings.sites},
            settings.analytics,
            keys,
            FailedKeyLimiter(settings.failed_keys_per_minute),
            live,
            settings.stream_lifetime_s,
        )
        configs = LiveSites(settings.sites, settings.watch, settings.database_url, "the API")

        async def take_up_sites() -> None:
            while True:
                await asyncio.sleep(settings.analytics.sites_rescan_s)
                try:
                    taken = await run_in_threadpool(configs.rescan)
                except Exception as exc:  # the next rescan tries again; serving goes on
                    log.error("reading the sites folder again failed (%s); the API goes on", exc)
                    continue
                if taken:  # the requests' site dict is replaced whole, never changed
                    app.state.footfall = replace(app.state.footfall, sites=dict(configs.by_id))

        rescans = asyncio.create_task(take_up_sites()) if settings.watch is not None else None
        try:
            yield
        finally:
            if rescans is not None:
                rescans.cancel()
                with suppress(asyncio.CancelledError):
                    await rescans
            await live.close()
            revocations.close()
            db.close()

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

    @app.exception_handler(Unavailable)
    async def unavailable_503(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=503, headers={"Retry-After": exc.retry_after}
        )

    for module in (
        footfall,
        zones,
        heatmap,
        visitors,
        overview,
        layout,
        conversion,
        alerts,
        compare,
        reports,
    ):
        app.include_router(module.router, prefix=PREFIX, responses=ERROR_RESPONSES)

    app.include_router(portfolio.router, prefix="/v1")

    @app.get("/healthz", tags=["health"], summary="Liveness: the API process answers")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        tags=["health"],
        summary="Readiness: the database (and the broker, when configured) answer",
        responses={503: {"model": Problem, "description": "Not ready; the sentence says why."}},
    )
    async def readyz(request: Request) -> Readiness:
        state: ApiState = request.app.state.footfall
        await state.db.run_live(_ping)
        broker = "not checked"
        if settings.bootstrap_servers:
            servers = settings.bootstrap_servers
            try:
                await run_in_threadpool(list_topics, servers, 3000)
            except BrokerError as exc:
                raise Unavailable(
                    f"the broker at {servers} does not answer ({exc}); start it (footfall stack "
                    "up) or fix --bootstrap-servers",
                    retry_after_s=5.0,
                ) from None
            broker = "ok"
        return Readiness(status="ready", database="ok", broker=broker)

    mount_dashboard(app)
    return app
