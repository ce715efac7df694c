"""Alerts fired and cleared for a site (the ``footfall cloud alerts`` worker stores them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cloud.alerts import store
from cloud.api import retail_models as models
from cloud.api.deps import AuthorisedSite, Db, span
from cloud.api.params import TimeRange
from cloud.api.render import localise
from footfall.site import Site

router = APIRouter(tags=["alerts"])

RECENT = span("7 days before `to`", "now", until_now=timedelta(days=7))


def rules(site: Site) -> list[dict[str, str]]:
    """The site's alert rules in words."""
    out = []
    for r in site.alerts.occupancy:
        out.append(
            {
                "kind": "occupancy",
                "subject": r.zone,
                "description": f"more than {r.capacity} people (clears at "
                f"{r.capacity * r.clear_below:g})",
            }
        )
    if site.alerts.entrances:
        e = site.alerts.entrances
        out.append(
            {
                "kind": "entrances",
                "subject": "entrances",
                "description": f"an hour's entries {e.tolerance:.0%} off the mean of the same "
                f"hour and weekday over {e.weeks} weeks (usual >= {e.min_usual})",
            }
        )
    if site.alerts.cameras:
        c = site.alerts.cameras
        out.append(
            {
                "kind": "camera",
                "subject": "every camera",
                "description": f"silent {c.silent_minutes:g} min, or degraded "
                f"{c.degraded_minutes:g} min",
            }
        )
    return out


@router.get(
    "/alerts",
    response_model=models.Alerts,
    summary="Alerts open at some time in the range (default: the last 7 days), newest first",
)
async def get_alerts(
    site: AuthorisedSite,
    db: Db,
    r: Annotated[TimeRange, Depends(RECENT)],
) -> JSONResponse:
    tz = ZoneInfo(site.site.timezone)
    rows = await db.run(store.alerts, site.id, r.start, r.end)
    opened = await db.run(store.open_alert_counts, [site.id])
    return JSONResponse(
        {
            "timezone": tz.key,
            "open": opened.get(site.id, 0),
            "rules": rules(site),
            "webhooks": [w.name for w in site.alerts.webhooks],
            "rows": localise(rows, tz),
        }
    )
