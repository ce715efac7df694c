"""Anonymous visitors (stitched across cameras), their trajectories, and camera health."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse

from cloud.api import models, queries
from cloud.api.deps import TABLE, AuthorisedSite, Db, Format, Range
from cloud.api.render import localise, respond
from footfall.contract.messages import TRACK_ID_PATTERN
from footfall.site.base import SLUG_PATTERN

router = APIRouter(tags=["visitors", "cameras"])


@router.get(
    "/visitors",
    response_model=models.Visitors,
    summary="Anonymous visitors seen in the range, stitched across cameras (a local track "
    "not stitched yet counts as a visitor of its own, id '<camera>/<track>')",
    responses=TABLE,
)
async def visitors(
    site: AuthorisedSite,
    db: Db,
    r: Range,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    format: Format = "json",
) -> Response:
    return respond(await db.run(queries.visitors, site.id, r, limit), r.tz, format, "visitors")


@router.get(
    "/visitors/summary",
    response_model=models.VisitorSummary,
    summary="Unique and returning visitors in the range, from stitched visitor ids",
)
async def visitor_summary(site: AuthorisedSite, db: Db, r: Range) -> JSONResponse:
    summary = await db.run(queries.visitor_summary, site.id, r)
    return JSONResponse(
        {
            **summary,
            "returning_after": queries.RETURN_GAP,
            "from": r.start.astimezone(r.tz).isoformat(),
            "to": r.end.astimezone(r.tz).isoformat(),
        }
    )


@router.get(
    "/visitors/{camera}/{track}",
    response_model=models.Trajectory,
    summary="One trajectory: floor positions over time",
)
async def trajectory(
    site: AuthorisedSite,
    db: Db,
    camera: Annotated[str, Path(pattern=SLUG_PATTERN, description="Camera id.")],
    track: Annotated[str, Path(pattern=TRACK_ID_PATTERN, description="Track id on that camera.")],
) -> JSONResponse:
    rows = await db.run(queries.trajectory, site.id, camera, track)
    if not rows:
        raise HTTPException(404, f"no trajectory {camera}/{track} in site {site.id!r}")
    return JSONResponse(
        {
            "camera_id": camera,
            "track_id": track,
            "points": localise(rows, ZoneInfo(site.site.timezone)),
        }
    )


@router.get(
    "/cameras",
    response_model=models.Cameras,
    summary="Camera health from the latest heartbeat of each camera",
)
async def cameras(site: AuthorisedSite, db: Db) -> JSONResponse:
    latest = {r["camera_id"]: r for r in await db.run(queries.cameras, site.id)}
    tz = ZoneInfo(site.site.timezone)
    out = []
    for cam in site.cameras:
        row = latest.get(cam.id)
        out.append(localise([row], tz)[0] if row else {"camera_id": cam.id, "status": "unknown"})
    return JSONResponse({"cameras": out})


@router.get(
    "/cameras/history",
    response_model=models.CameraHistory,
    summary="Camera health per bucket: mean fps and latency, dropped frames, bad heartbeats",
    responses=TABLE,
)
async def camera_history(
    site: AuthorisedSite, db: Db, r: Range, format: Format = "json"
) -> Response:
    rows = await db.run(queries.camera_history, site.id, r)
    return respond(rows, r.tz, format, "camera_history")
