"""FastAPI dependencies, as ``Annotated`` aliases: a database connection and the authorised site."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import psycopg
from fastapi import Depends, Header, HTTPException, Path, Query, Request
from psycopg_pool import ConnectionPool

from cloud.api.auth import key_site
from cloud.api.params import TimeRange
from cloud.settings import AnalyticsSettings
from footfall.site import Site


@dataclass(frozen=True)
class ApiState:
    pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]]
    sites: dict[str, Site]
    analytics: AnalyticsSettings


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.footfall
    return state


def _conn(
    state: Annotated[ApiState, Depends(_state)],
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with state.pool.connection() as conn:
        yield conn


State = Annotated[ApiState, Depends(_state)]
Conn = Annotated[psycopg.Connection[tuple[object, ...]], Depends(_conn)]


def _site(
    state: State,
    conn: Conn,
    site: Annotated[str, Path(description="Site id, e.g. 'demo'.")],
    x_api_key: Annotated[str | None, Header(description="API key for this site.")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Site:
    token = x_api_key
    if token is None and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise HTTPException(
            401, "missing API key; send it in the X-API-Key header (footfall cloud apikey create)"
        )
    scope = key_site(conn, token)
    if scope is None:
        raise HTTPException(
            401, "unknown API key; check it or create one with footfall cloud apikey create"
        )
    if scope != site:
        raise HTTPException(403, f"this API key is for site {scope!r}, not {site!r}")
    found = state.sites.get(site)
    if found is None:
        raise HTTPException(404, f"site {site!r} is not configured in this API")
    return found


AuthorisedSite = Annotated[Site, Depends(_site)]


def _range(
    site: AuthorisedSite,
    start: Annotated[str, Query(alias="from", description="Start, ISO 8601; site-local if naive.")],
    end: Annotated[str, Query(alias="to", description="End (exclusive), ISO 8601.")],
    bucket: Annotated[str, Query(description="Bucket: 1m … 1d, e.g. 15m, 1h, 1d.")] = "1h",
) -> TimeRange:
    return TimeRange.parse(start, end, bucket, ZoneInfo(site.site.timezone))


Range = Annotated[TimeRange, Depends(_range)]
Format = Annotated[str, Query(pattern="^(json|csv)$", description="json or csv.")]
