"""Anonymous visitors (stitched across cameras), their trajectories, and camera health."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse

from cloud.api import queries
from cloud.api.deps import AuthorisedSite, Conn, Format, Range
from cloud.api.render import localise, respond

router = APIRouter(tags=["visitors", "cameras"])


@router.get(
    "/visitors",
    summary="Anonymous visitors seen in the range, stitched across cameras (a local track "
    "not stitched yet counts as a visitor of its own, id '<camera>/<track>')",
)
def visitors(
    site: AuthorisedSite,
    conn: Conn,
    r: Range,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    format: Format = "json",
) -> Response:
    return respond(queries.visitors(conn, site.id, r, limit), r.tz, format, "visitors")


@router.get(
    "/visitors/summary",
    summary="Unique and returning visitors in the range, from stitched visitor ids",
)
def visitor_summary(site: AuthorisedSite, conn: Conn, r: Range) -> JSONResponse:
    summary = queries.visitor_summary(conn, site.id, r)
    return JSONResponse(
        {
            **summary,
            "returning_after": queries.RETURN_GAP,
            "from": r.start.astimezone(r.tz).isoformat(),
            "to": r.end.astimezone(r.tz).isoformat(),
        }
    )


@router.get("/visitors/{camera}/{track}", summary="One trajectory: floor positions over time")
def trajectory(site: AuthorisedSite, conn: Conn, camera: str, track: str) -> JSONResponse:
    rows = queries.trajectory(conn, site.id, camera, track)
    if not rows:
        raise HTTPException(404, f"no trajectory {camera}/{track} in site {site.id!r}")
    return JSONResponse(
        {
            "camera_id": camera,
            "track_id": track,
            "points": localise(rows, ZoneInfo(site.site.timezone)),
        }
    )


@router.get("/cameras", summary="Camera health from the latest heartbeat of each camera")
def cameras(site: AuthorisedSite, conn: Conn) -> JSONResponse:
    latest = {r["camera_id"]: r for r in queries.cameras(conn, site.id)}
    tz = ZoneInfo(site.site.timezone)
    out = []
    for cam in site.cameras:
        row = latest.get(cam.id)
        out.append(localise([row], tz)[0] if row else {"camera_id": cam.id, "status": "unknown"})
    return JSONResponse({"cameras": out})


@router.get(
    "/cameras/history",
    summary="Camera health per bucket: mean fps and latency, dropped frames, bad heartbeats",
)
def camera_history(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    return respond(queries.camera_history(conn, site.id, r), r.tz, format, "camera_history")
