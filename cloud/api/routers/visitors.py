"""Anonymous visitors (stitched across cameras), their trajectories, and camera health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse

from cloud.api import models, queries
from cloud.api.deps import TABLE, AuthorisedSite, Db, Format, IncludeStaff, Range
from cloud.api.kept import raw_only
from cloud.api.render import localise, respond
from footfall.contract.messages import TRACK_ID_PATTERN
from footfall.site.base import SLUG_PATTERN

router = APIRouter(tags=["visitors", "cameras"])


@router.get(
    "/visitors",
    dependencies=[raw_only("visitors")],
    response_model=models.Visitors,
    summary="Anonymous visitors seen in the range, stitched across cameras (a local track "
    "not stitched yet counts as a visitor of its own, id '<camera>/<track>')",
    responses=TABLE,
)
async def visitors(
    site: AuthorisedSite,
    db: Db,
    r: Range,
    limit: Annotated[
        int, Query(ge=1, le=10000, description="At most this many visitors (first seen first).")
    ] = 1000,
    format: Format = "json",
) -> Response:
    return respond(await db.run(queries.visitors, site.id, r, limit), r.tz, format, "visitors")


@router.get(
    "/visitors/summary",
    dependencies=[raw_only("unique visitors")],
    response_model=models.VisitorSummary,
    summary="Unique and returning visitors in the range, from stitched visitor ids",
)
async def visitor_summary(
    site: AuthorisedSite, db: Db, r: Range, staff: IncludeStaff
) -> JSONResponse:
    min_visitor_s = site.counting.min_visitor_s
    summary = await db.run(queries.visitor_summary, site.id, r, min_visitor_s, staff)
    return JSONResponse(
        {
            **summary,
            "returning_after": queries.RETURN_GAP,
            "counted_after_s": min_visitor_s,
            "from": r.start.astimezone(r.tz).isoformat(),
            "to": r.end.astimezone(r.tz).isoformat(),
        }
    )


@router.get(
    "/visitors/{visitor}",
    response_model=models.VisitorTrajectory,
    summary="A stitched visitor's trajectory across cameras: floor positions over time",
)
async def visitor_trajectory(
    site: AuthorisedSite,
    db: Db,
    visitor: Annotated[
        str, Path(pattern=TRACK_ID_PATTERN, description="Stitched visitor id (visitors list).")
    ],
) -> JSONResponse:
    rows = await db.run(queries.visitor_trajectory, site.id, visitor)
    if not rows:
        raise HTTPException(
            404,
            f"no stitched visitor {visitor!r} in site {site.id!r}; a track not stitched yet is "
            "fetched as visitors/{camera}/{track}",
        )
    return JSONResponse(
        {"visitor_id": visitor, "points": localise(rows, ZoneInfo(site.site.timezone))}
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
    now = datetime.now(UTC)
    out = []
    for cam in site.cameras:
        row = latest.get(cam.id)
        if row is None:
            out.append({"camera_id": cam.id, "status": "unknown"})
            continue
        quiet_s = (now - row["sent_at"]).total_seconds()
        limit_s = silent_after_s(row["interval_s"])
        if quiet_s > limit_s:
            row = {
                **row,
                "status": "silent",
                "detail": f"no heartbeat for {quiet_s:.0f} s (expected every "
                f"{row['interval_s']:g} s; silent after {limit_s:.0f} s); last said "
                f"{row['status']}" + (f": {row['detail']}" if row["detail"] else ""),
            }
        out.append(localise([row], tz)[0])
    return JSONResponse({"cameras": out})


def silent_after_s(interval_s: float) -> float:
    """A camera is silent after three missed heartbeats, and never within two minutes."""
    return max(3.0 * interval_s, 120.0)


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
