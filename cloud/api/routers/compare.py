"""Any KPI over a range against the same range last week and last year."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from cloud.analytics import kpis
from cloud.api import retail_models as models
from cloud.api.deps import AuthorisedSite, Db, span
from cloud.api.params import TimeRange, unprocessable

router = APIRouter(tags=["compare"])

COMPARED = span("today 00:00 (site time), or a day before `to`", "a day after `from`, at most now")


@router.get(
    "/compare",
    response_model=models.Comparison,
    response_model_by_alias=True,
    summary="KPIs over a range against the same range last week and last year",
    description="KPIs: " + "; ".join(f"`{k}`: {v}" for k, v in kpis.KPIS.items()) + ". Last "
    "week is the range 7 days back, last year 364 days back (the same weekdays), on the site's "
    "clock. A range reaching past now ends now, and so do the ranges it is compared with. "
    "Days older than the raw retention are answered from rollups (entries, exits, zone visits, "
    "mean dwell, conversion: the same figures as before the raw rows went, for a range on whole "
    "hours); a figure the kept rows cannot answer is null with `unavailable`, one sentence "
    "saying why.",
)
async def compare(
    site: AuthorisedSite,
    db: Db,
    r: Annotated[TimeRange, Depends(COMPARED)],
    kpi: Annotated[
        list[str] | None,
        Query(description="KPI(s) to compare (repeat); default all.", max_length=20),
    ] = None,
    zone: Annotated[
        str | None,
        Query(description="Zone for zone_visits, dwell_mean_s, occupancy_peak.", max_length=63),
    ] = None,
) -> JSONResponse:
    tz = ZoneInfo(site.site.timezone)
    chosen = list(dict.fromkeys(kpi or kpis.KPIS))
    unknown = [k for k in chosen if k not in kpis.KPIS]
    if unknown:
        raise unprocessable(f"kpi {unknown[0]!r} is unknown; use one of {', '.join(kpis.KPIS)}")
    if zone is not None and zone not in {z.id for z in site.zones}:
        raise unprocessable(
            f"zone {zone!r} is not a zone of this site; use one of "
            f"{', '.join(z.id for z in site.zones)}"
        )
    now = datetime.now(UTC)
    hi = min(r.end, now) if r.start < now else r.end
    rows = await db.run(kpis.compare, site, chosen, r.start, hi, zone)
    return JSONResponse(
        {
            "timezone": tz.key,
            "from": r.start.astimezone(tz).isoformat(),
            "to": hi.astimezone(tz).isoformat(),
            "zone": zone,
            "kpis": rows,
        }
    )
