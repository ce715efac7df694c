"""FastAPI dependencies, as ``Annotated`` aliases: the database, the authorised site, the range.

Every dependency is ``async`` and cheap: the only blocking work (a key lookup on a cache miss)
goes through :class:`cloud.api.database.Database`, which never blocks the event loop.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel

from cloud.api.auth import FailedKeyLimiter, KeyCache, key_scope
from cloud.api.database import Database
from cloud.api.live import LiveOccupancy
from cloud.api.params import DATE_TIME, TimeRange, parse_bucket
from cloud.settings import AnalyticsSettings
from footfall.site import Site
from footfall.site.base import SLUG_PATTERN


@dataclass(frozen=True)
class ApiState:
    db: Database
    sites: dict[str, Site]
    analytics: AnalyticsSettings
    keys: KeyCache
    limiter: FailedKeyLimiter
    live: LiveOccupancy
    stream_lifetime_s: float


class Problem(BaseModel):
    """Every error answer: one sentence naming the problem and what to do."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No API key, or an unknown, revoked or expired one."},
    403: {"model": Problem, "description": "The key belongs to other sites."},
    404: {"model": Problem, "description": "The site (or the resource) does not exist here."},
    422: {"model": Problem, "description": "A parameter is missing, malformed or out of range."},
    429: {
        "model": Problem,
        "description": "Too many wrong keys from this address; see the Retry-After header.",
    },
    503: {
        "model": Problem,
        "description": "Saturated, or the database is away; retry after the Retry-After header.",
    },
}
"""The error answers every site resource may give, for the OpenAPI document."""

TABLE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/csv": {}},
        "description": "Rows as JSON, or as CSV with ?format=csv.",
    }
}


class PNGResponse(Response):
    media_type = "image/png"


PNG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "A PNG image."}
}


async def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.footfall
    return state


State = Annotated[ApiState, Depends(_state)]


async def _db(state: State) -> Database:
    return state.db


Db = Annotated[Database, Depends(_db)]


async def _site(
    request: Request,
    state: State,
    site: Annotated[str, Path(description="Site id, e.g. 'demo'.", pattern=SLUG_PATTERN)],
    x_api_key: Annotated[
        str | None, Header(description="API key for this site.", max_length=200)
    ] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Site:
    client = request.client.host if request.client else "unknown"
    wait_s = state.limiter.blocked(client)
    if wait_s is not None:
        raise HTTPException(
            429,
            f"too many wrong API keys from this address; wait {wait_s:.0f} s and check the key",
            headers={"Retry-After": str(int(wait_s) + 1)},
        )
    token = x_api_key
    if token is None and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise HTTPException(
            401, "missing API key; send it in the X-API-Key header (footfall cloud apikey create)"
        )
    scope = await state.keys.scope(token, lambda t: state.db.run(key_scope, t))
    if scope is None:
        state.limiter.failed(client)
        raise HTTPException(
            401,
            "unknown, revoked or expired API key; check it or create one with footfall cloud "
            "apikey create",
        )
    if site not in scope.sites:
        allowed = ", ".join(repr(s) for s in sorted(scope.sites))
        plural = "s" if len(scope.sites) > 1 else ""
        raise HTTPException(403, f"this API key is for site{plural} {allowed}, not {site!r}")
    found = state.sites.get(site)
    if found is None:
        raise HTTPException(404, f"site {site!r} is not configured in this API")
    return found


AuthorisedSite = Annotated[Site, Depends(_site)]


SpanDependency = Callable[..., Awaitable[TimeRange]]


def span(
    from_default: str, to_default: str, *, until_now: timedelta | None = None
) -> SpanDependency:
    """A ``from``/``to`` dependency (no ``bucket``) whose defaults the parameters document.

    Resources that need no bucket use ``Annotated[TimeRange, Depends(span(...))]``; the
    range's ``bucket`` is then the default one. ``until_now``: see :meth:`TimeRange.parse`.
    (This module has no ``from __future__ import annotations``: FastAPI must see the
    closure's annotations as objects, not as names it cannot resolve.)"""

    async def parse_span(
        site: AuthorisedSite,
        start: Annotated[
            str | None,
            Query(
                alias="from",
                description=f"Start, ISO 8601; site-local if naive. Default: {from_default}.",
                max_length=64,
                json_schema_extra=DATE_TIME,
            ),
        ] = None,
        end: Annotated[
            str | None,
            Query(
                alias="to",
                description=f"End (exclusive), ISO 8601. Default: {to_default}.",
                max_length=64,
                json_schema_extra=DATE_TIME,
            ),
        ] = None,
    ) -> TimeRange:
        tz = ZoneInfo(site.site.timezone)
        return TimeRange.parse(start, end, None, tz, until_now=until_now)

    return parse_span


_today = span(
    "today 00:00 (site time), or a day before `to`",
    "tomorrow 00:00 (site time), or a day after `from`",
)


async def _range(
    within: Annotated[TimeRange, Depends(_today)],
    bucket: Annotated[
        str | None,
        Query(
            description="Bucket: 1m … 1d, e.g. 15m, 1h, 1d. Default: 15m up to 6 hours, 1h up "
            "to 3 days, else 1d.",
            max_length=32,
        ),
    ] = None,
) -> TimeRange:
    return within if bucket is None else replace(within, bucket=parse_bucket(bucket))


Range = Annotated[TimeRange, Depends(_range)]
Format = Annotated[str, Query(pattern="^(json|csv)$", description="json or csv.")]


async def _staff(
    site: AuthorisedSite,
    staff: Annotated[
        Literal["exclude", "include"] | None,
        Query(
            description="Count staff (recognised from their trajectories, see /staff) in "
            "visitor figures (`include`) or not (`exclude`); default: the site's "
            "reporting.staff.exclude_by_default (exclude)."
        ),
    ] = None,
) -> bool:
    if staff is None:
        return not site.reporting.staff.exclude_by_default
    return staff == "include"


IncludeStaff = Annotated[bool, Depends(_staff)]
"""True when the request asks for staff to be counted (``?staff=include``)."""
