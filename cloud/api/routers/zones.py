"""Occupancy (now, history, live stream), dwell statistics and zone-to-zone flows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, StreamingResponse

from cloud.api import queries
from cloud.api.deps import AuthorisedSite, Conn, Format, Range, State
from cloud.api.render import respond

router = APIRouter(tags=["zones"])


def _now_payload(state: State, conn: Conn, site: AuthorisedSite, at: datetime) -> dict[str, object]:
    since = at - timedelta(seconds=state.analytics.occupancy_stale_s)
    rows = {r["zone_id"]: r["occupancy"] for r in queries.occupancy_now(conn, site.id, since, at)}
    zones = {z.id: int(rows.get(z.id, 0)) for z in site.zones}
    return {"at": at.astimezone(ZoneInfo(site.site.timezone)).isoformat(), "zones": zones}


@router.get("/occupancy/now", summary="People in each zone now (or at ?at=)")
def occupancy_now(
    state: State, conn: Conn, site: AuthorisedSite, at: datetime | None = None
) -> JSONResponse:
    when = at if at is not None and at.tzinfo else datetime.now(UTC)
    return JSONResponse(_now_payload(state, conn, site, when))


@router.get("/occupancy", summary="Occupancy history: mean and peak of minute snapshots")
def occupancy(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    minutes = r.bucket.total_seconds() / 60
    rows = [
        {
            "bucket": x["bucket"],
            "zone_id": x["zone_id"],
            "mean": x["total"] / minutes,
            "peak": x["peak"],
        }
        for x in queries.occupancy_history(conn, site.id, r)
    ]
    return respond(rows, r.tz, format, "occupancy")


@router.get("/occupancy/stream", summary="Live occupancy as server-sent events (every 2 s)")
async def occupancy_stream(
    state: State, site: AuthorisedSite, interval_s: float = 2.0, events: int = 0
) -> StreamingResponse:
    async def generate() -> AsyncIterator[str]:
        sent = 0
        while events <= 0 or sent < events:
            with state.pool.connection() as conn:
                payload = _now_payload(state, conn, site, datetime.now(UTC))
            yield f"event: occupancy\ndata: {json.dumps(payload)}\n\n"
            sent += 1
            await asyncio.sleep(max(0.1, interval_s))

    return StreamingResponse(generate(), media_type="text/event-stream")


@router.get("/dwell", summary="Zone visits and dwell time: mean, median, p90 (seconds)")
def dwell(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    return respond(queries.dwell(conn, site.id, r), r.tz, format, "dwell")


@router.get(
    "/flows",
    summary="Zone-to-zone moves (consecutive visits of one visitor, stitched across cameras)",
)
def flows(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    return respond(queries.flows(conn, site.id, r), r.tz, format, "flows")


DWELL_EDGES_S = [15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0]
"""Histogram bin edges of the dwell distribution, seconds (first bin below 15 s, last ≥ 1 h)."""


@router.get(
    "/dwell/distribution",
    summary="Dwell time distribution per zone: quantiles and a histogram (seconds)",
)
def dwell_distribution(site: AuthorisedSite, conn: Conn, r: Range) -> JSONResponse:
    zones = []
    for row in queries.dwell_distribution(conn, site.id, r, DWELL_EDGES_S):
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
