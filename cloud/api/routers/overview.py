"""Site overview: today's entries against the same weekday last week, per hour and in total."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cloud.api import models, queries
from cloud.api.database import Conn
from cloud.api.deps import AuthorisedSite, Db
from cloud.api.params import DATE_TIME, parse_time
from footfall.site import Site

router = APIRouter(tags=["overview"])


def entry_lines(site: Site) -> list[str]:
    """The lines that count footfall: those of entrance zones, or every line if none is."""
    entrances = {z.id for z in site.zones if z.kind == "entrance"}
    chosen = [line.id for line in site.lines if line.zone in entrances]
    return chosen or [line.id for line in site.lines]


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


@router.get(
    "/overview",
    response_model=models.Overview,
    summary="Entries today (up to now, or ?at=) against the same weekday last week, per hour",
)
async def overview(
    site: AuthorisedSite,
    db: Db,
    at: Annotated[
        str | None,
        Query(
            description="Moment to report at, ISO 8601; default now.",
            max_length=64,
            json_schema_extra=DATE_TIME,
        ),
    ] = None,
) -> JSONResponse:
    tz = ZoneInfo(site.site.timezone)
    now = parse_time(at, "at", tz) if at else datetime.now(UTC)
    return JSONResponse(await db.run(_overview, site, tz, now))


def _overview(conn: Conn, site: Site, tz: ZoneInfo, now: datetime) -> dict[str, object]:
    local = now.astimezone(tz)
    day, week_ago = local.date(), local.date() - timedelta(days=7)
    lo, hi = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    clo, chi = _midnight(week_ago, tz), _midnight(week_ago + timedelta(days=1), tz)
    # "Same time last week": the same wall-clock time of day, a week ago.
    same_time = datetime.combine(week_ago, local.time(), tzinfo=tz)
    lines = entry_lines(site)
    hourly = {
        (r["day"], r["hour"]): r
        for r in queries.entries_by_local_hour(conn, site.id, lines, [(lo, hi), (clo, chi)], tz.key)
    }
    hours = []
    for h in range(24):
        today, before = hourly.get((day, h)), hourly.get((week_ago, h))
        hours.append(
            {
                "hour": h,
                "entries": today["ins"] if today else 0,
                "exits": today["outs"] if today else 0,
                "compare_entries": before["ins"] if before else 0,
            }
        )
    entries, exits = queries.entries_between(conn, site.id, lines, lo, now)
    compare, _ = queries.entries_between(conn, site.id, lines, clo, same_time)
    compare_day, _ = queries.entries_between(conn, site.id, lines, clo, chi)
    return {
        "timezone": tz.key,
        "at": local.isoformat(),
        "day": day.isoformat(),
        "compare_day": week_ago.isoformat(),
        "lines": lines,
        "entries": entries,
        "exits": exits,
        "compare_entries_same_time": compare,
        "compare_entries_whole_day": compare_day,
        "change": (entries - compare) / compare if compare else None,
        "hourly": hours,
    }
