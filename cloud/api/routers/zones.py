"""Occupancy (now, history, live stream), dwell statistics and zone-to-zone flows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from cloud.api import models, queries
from cloud.api.deps import TABLE, AuthorisedSite, Db, Format, IncludeStaff, Range, State
from cloud.api.kept import raw_only
from cloud.api.live import occupancy_at
from cloud.api.params import DATE_TIME, parse_time
from cloud.api.render import respond

router = APIRouter(tags=["zones"])


@router.get(
    "/occupancy/now",
    response_model=models.OccupancyNow,
    summary="People in each zone now (or at ?at=)",
    description="Now is shared by all clients of a site: computed at most once per stream tick "
    "(a second by default); `at` in the answer says when.",
)
async def occupancy_now(
    state: State,
    site: AuthorisedSite,
    at: Annotated[
        str | None,
        Query(
            description="Moment, ISO 8601 (site-local if naive); default now.",
            max_length=64,
            json_schema_extra=DATE_TIME,
        ),
    ] = None,
) -> JSONResponse:
    if at is None:
        return JSONResponse(await state.live.now(site))
    when = parse_time(at, "at", ZoneInfo(site.site.timezone))
    payload = await state.db.run(occupancy_at, site, state.analytics.occupancy_stale_s, when)
    return JSONResponse(payload)


@router.get(
    "/occupancy",
    response_model=models.Occupancy,
    summary="Occupancy history: mean and peak of minute snapshots",
    responses=TABLE,
)
async def occupancy(site: AuthorisedSite, db: Db, r: Range, format: Format = "json") -> Response:
    minutes = r.bucket.total_seconds() / 60
    rows = [
        {
            "bucket": x["bucket"],
            "zone_id": x["zone_id"],
            "mean": x["total"] / minutes,
            "peak": x["peak"],
        }
        for x in await db.run(queries.occupancy_history, site.id, r)
    ]
    return respond(rows, r.tz, format, "occupancy")


@router.get(
    "/occupancy/stream",
    summary="Live occupancy as server-sent events (every interval_s, default 2 s)",
    description="An `occupancy` event per interval, computed once per tick for every listener; "
    "an SSE comment as keep-alive while the database does not answer. The stream ends after "
    "`events` events or the server's stream lifetime (an hour by default); reconnect then.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"}},
)
async def occupancy_stream(
    state: State,
    site: AuthorisedSite,
    interval_s: Annotated[
        float,
        Query(ge=1.0, le=60.0, allow_inf_nan=False, description="Seconds between events."),
    ] = 2.0,
    events: Annotated[
        int | None,
        Query(ge=1, le=100_000, description="Stop after this many events; default: no limit."),
    ] = None,
) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for payload in state.live.stream(site, interval_s, events, state.stream_lifetime_s):
            if payload is None:
                yield ": keep-alive\n\n"
            else:
                yield f"event: occupancy\ndata: {json.dumps(payload)}\n\n"

    return StreamingResponse(
        generate(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/dwell",
    dependencies=[raw_only("dwell")],
    response_model=models.Dwell,
    summary="Zone visits and dwell time: mean, median, p90 (seconds)",
    responses=TABLE,
)
async def dwell(
    site: AuthorisedSite, db: Db, r: Range, staff: IncludeStaff, format: Format = "json"
) -> Response:
    return respond(await db.run(queries.dwell, site.id, r, staff), r.tz, format, "dwell")


@router.get(
    "/flows",
    dependencies=[raw_only("flows")],
    response_model=models.Flows,
    summary="Zone-to-zone moves (consecutive visits of one visitor, stitched across cameras)",
    responses=TABLE,
)
async def flows(site: AuthorisedSite, db: Db, r: Range, format: Format = "json") -> Response:
    return respond(await db.run(queries.flows, site.id, r), r.tz, format, "flows")


DWELL_EDGES_S = [15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0]
"""Histogram bin edges of the dwell distribution, seconds (first bin below 15 s, last ≥ 1 h)."""


@router.get(
    "/dwell/distribution",
    dependencies=[raw_only("the dwell distribution")],
    response_model=models.DwellDistribution,
    summary="Dwell time distribution per zone: quantiles and a histogram (seconds)",
)
async def dwell_distribution(
    site: AuthorisedSite, db: Db, r: Range, staff: IncludeStaff
) -> JSONResponse:
    zones = []
    for row in await db.run(queries.dwell_distribution, site.id, r, DWELL_EDGES_S, staff):
        counts = [0] * (len(DWELL_EDGES_S) + 1)
        for b, n in row["bins"]:
            counts[b] = n
        p05, p25, p50, p75, p95 = row["quantiles"]
        zones.append(
            {
                "zone_id": row["zone_id"],
                "visits": row["visits"],
                "quantiles_s": {"p05": p05, "p25": p25, "p50": p50, "p75": p75, "p95": p95},
                "histogram": counts,
            }
        )
    return JSONResponse(
        {
            "edges_s": DWELL_EDGES_S,
            "bins": "histogram[0] counts visits below edges_s[0], histogram[i] those in "
            "[edges_s[i-1], edges_s[i]), the last those at or above the last edge",
            "zones": zones,
        }
    )
