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


@router.get("/flows", summary="Zone-to-zone moves (consecutive visits of one track)")
def flows(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    return respond(queries.flows(conn, site.id, r), r.tz, format, "flows")
