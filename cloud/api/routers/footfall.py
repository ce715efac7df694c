"""Entries and exits per counting line and bucket."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cloud.api import models, queries
from cloud.api.deps import TABLE, AuthorisedSite, Db, Format, IncludeStaff, Range
from cloud.api.render import respond

router = APIRouter(tags=["footfall"])


@router.get(
    "/footfall",
    response_model=models.Footfall,
    summary="Entries (ins) and exits (outs) per line per bucket",
    responses=TABLE,
)
async def footfall(
    site: AuthorisedSite, db: Db, r: Range, staff: IncludeStaff, format: Format = "json"
) -> Response:
    return respond(await db.run(queries.footfall, site.id, r, staff), r.tz, format, "footfall")
