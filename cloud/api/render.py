"""Responses: JSON rows or CSV, with times in the site's time zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse, Response

Rows = list[dict[str, Any]]


def localise(rows: Rows, tz: ZoneInfo) -> Rows:
    return [
        {k: v.astimezone(tz).isoformat() if isinstance(v, datetime) else v for k, v in r.items()}
        for r in rows
    ]


def respond(
    rows: Rows, tz: ZoneInfo, fmt: str, name: str, extra: dict[str, Any] | None = None
) -> Response:
    rows = localise(rows, tz)
    if fmt == "csv":
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return Response(
            buf.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse({**(extra or {}), "timezone": tz.key, "rows": rows})
