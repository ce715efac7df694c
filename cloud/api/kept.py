"""A route dependency for figures counted only from per-person rows (zone visits, tracks,
stitched ids, staff tracks) that no rollup keeps: a range reaching into the days retention has
dropped them for is refused with one sentence (422) instead of answered as zero.

(No ``from __future__ import annotations``: FastAPI must see the closure's annotations.)
"""

from typing import Any

from fastapi import Depends

from cloud.analytics.sealed import Unanswerable, refuse_dropped
from cloud.api.deps import AuthorisedSite, Db, Range
from cloud.api.params import unprocessable


def raw_only(what: str) -> Any:
    """``dependencies=[raw_only("dwell")]`` on a route whose figures come from raw rows."""

    async def check(site: AuthorisedSite, db: Db, r: Range) -> None:
        try:
            await db.run(refuse_dropped, site, r.start, r.end, what)
        except Unanswerable as exc:
            raise unprocessable(str(exc)) from None

    return Depends(check)
