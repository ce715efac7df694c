"""What a manager reports: staff left out, groups, queues, a site occupancy that does not drift
(:mod:`cloud.reports`, rules from the site's ``reporting:`` section)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from cloud.api import report_models as models
from cloud.api import report_queries as queries
from cloud.api.deps import AuthorisedSite, Db, Range
from cloud.api.kept import raw_only
from cloud.api.render import localise

router = APIRouter(tags=["reports"])


def _json(payload: dict[str, Any], tz: ZoneInfo) -> JSONResponse:
    return JSONResponse({"timezone": tz.key, **payload})


@router.get(
    "/staff",
    dependencies=[raw_only("staff")],
    response_model=models.Staff,
    summary="Staff recognised from trajectories, and visitor figures with and without them",
    description="Staff: a trajectory in staff_only zones, one long stay in a shop or checkout, "
    "or present for hours (the site's reporting.staff rules). Visitor figures leave them out "
    "by default; this answer gives both.",
)
async def staff(site: AuthorisedSite, db: Db, r: Range) -> JSONResponse:
    return JSONResponse(await db.run(queries.staff, site, r))


@router.get(
    "/groups",
    dependencies=[raw_only("groups")],
    response_model=models.Groups,
    summary="Entries as people and as groups (parties that entered and moved together)",
)
async def groups(site: AuthorisedSite, db: Db, r: Range) -> JSONResponse:
    rows = await db.run(queries.groups, site, r)
    return _json({"rows": localise(rows, r.tz)}, r.tz)


@router.get(
    "/queues",
    dependencies=[raw_only("queues")],
    response_model=models.Queues,
    summary="Queue length and waits per queue zone: mean and p90 per bucket, and live",
)
async def queues(site: AuthorisedSite, db: Db, r: Range) -> JSONResponse:
    out = await db.run(queries.queues, site, r, datetime.now(UTC))
    out["rows"] = localise(out["rows"], r.tz)
    return _json(out, r.tz)


@router.get(
    "/occupancy/site",
    response_model=models.SiteOccupancy,
    summary="Site occupancy from entrance lines, balanced so it does not drift over the day",
)
async def occupancy_site(
    site: AuthorisedSite,
    db: Db,
    day: Annotated[
        str | None,
        Query(description="Site-local day, YYYY-MM-DD; default today.", max_length=10),
    ] = None,
) -> JSONResponse:
    tz = ZoneInfo(site.site.timezone)
    try:
        d = date.fromisoformat(day) if day else datetime.now(tz).date()
    except ValueError:
        raise HTTPException(422, f"day: {day!r} is not a date; use YYYY-MM-DD") from None
    if not 1970 <= d.year <= 2100:
        raise HTTPException(422, f"day: {day!r} is outside 1970 … 2100; pick a day in it")
    out = await db.run(queries.occupancy_site, site, datetime.combine(d, time(0), tz))
    out["minutes"] = localise(out["minutes"], tz)
    return _json({"day": d.isoformat(), **out}, tz)
