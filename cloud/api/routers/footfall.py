"""Entries and exits per counting line and bucket."""

from __future__ import annotations

from fastapi import APIRouter, Response

from cloud.api import queries
from cloud.api.deps import AuthorisedSite, Conn, Format, Range
from cloud.api.render import respond

router = APIRouter(tags=["footfall"])


@router.get("/footfall", summary="Entries (ins) and exits (outs) per line per bucket")
def footfall(site: AuthorisedSite, conn: Conn, r: Range, format: Format = "json") -> Response:
    return respond(queries.footfall(conn, site.id, r), r.tz, format, "footfall")
