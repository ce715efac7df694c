"""The site's layout for drawing: floors, zones, counting lines, cameras; floor-plan images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import FileResponse, JSONResponse

from cloud.api import models
from cloud.api.deps import AuthorisedSite
from footfall.site import Camera
from footfall.site.base import SLUG_PATTERN

router = APIRouter(tags=["layout"])


def camera_area(camera: Camera) -> list[float]:
    """[x0, y0, x1, y1]: the floor box of the camera's calibration points (what it sees)."""
    xs = [p.floor[0] for p in camera.calibration.points]
    ys = [p.floor[1] for p in camera.calibration.points]
    return [min(xs), min(ys), max(xs), max(ys)]


@router.get(
    "/layout",
    response_model=models.Layout,
    summary="Floors, zones, counting lines and camera areas (metres)",
)
async def layout(site: AuthorisedSite) -> JSONResponse:
    return JSONResponse(
        {
            "id": site.id,
            "name": site.site.name,
            "timezone": site.site.timezone,
            "floors": [
                {
                    "id": f.id,
                    "name": f.name,
                    "level": f.level,
                    "width_m": f.width_m,
                    "depth_m": f.depth_m,
                    "plan": None
                    if f.plan is None
                    else {
                        "pixels_per_metre": f.plan.pixels_per_metre,
                        "origin_px": f.plan.origin_px,
                    },
                }
                for f in site.floors
            ],
            "zones": [
                {"id": z.id, "name": z.name, "floor": z.floor, "kind": z.kind, "polygon": z.polygon}
                for z in site.zones
            ],
            "lines": [
                {"id": x.id, "name": x.name or x.id, "floor": x.floor, "a": x.a, "b": x.b}
                for x in site.lines
            ],
            "cameras": [
                {
                    "id": c.id,
                    "name": c.name or c.id,
                    "floor": c.floor,
                    "area": camera_area(c),
                }
                for c in site.cameras
            ],
        }
    )


@router.get(
    "/floors/{floor}/plan",
    summary="The floor-plan image of a floor",
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "The plan."}},
)
async def floor_plan(
    site: AuthorisedSite, floor: Annotated[str, Path(pattern=SLUG_PATTERN, description="Floor id.")]
) -> FileResponse:
    found = next((f for f in site.floors if f.id == floor), None)
    if found is None:
        raise HTTPException(
            404,
            f"floor {floor!r} is not in site {site.id!r}; valid: "
            + ", ".join(f.id for f in site.floors),
        )
    if found.plan is None:
        raise HTTPException(404, f"floor {floor!r} has no plan image; add 'plan' to its site YAML")
    return FileResponse(found.plan.image)
