"""The portfolio: every site an API key may see, side by side, with last week and last year."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from cloud.alerts import store as alert_store
from cloud.analytics import kpis
from cloud.analytics.sealed import Unanswerable
from cloud.api import retail_models as models
from cloud.api.auth import key_sites
from cloud.api.database import Conn
from cloud.api.deps import ERROR_RESPONSES, State
from cloud.api.params import EARLIEST, LATEST, unprocessable
from footfall.site import Site

router = APIRouter(tags=["portfolio"])


async def _key(request: Request, state: State, x_api_key: str | None, bearer: str | None) -> str:
    client = request.client.host if request.client else "unknown"
    wait_s = state.limiter.blocked(client)
    if wait_s is not None:
        raise HTTPException(
            429,
            f"too many wrong API keys from this address; wait {wait_s:.0f} s and check the key",
            headers={"Retry-After": str(int(wait_s) + 1)},
        )
    token = x_api_key
    if token is None and bearer and bearer.lower().startswith("bearer "):
        token = bearer[7:].strip()
    if not token:
        raise HTTPException(
            401, "missing API key; send it in the X-API-Key header (footfall cloud apikey create)"
        )
    return token


def _site_figures(conn: Conn, site: Site, day: date | None, now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(site.site.timezone)
    d = day or now.astimezone(tz).date()
    lo = datetime.combine(d, time(0), tzinfo=tz)
    hi = min(datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz), max(now, lo))
    if hi <= lo:
        hi = lo + timedelta(seconds=1)
    entries = kpis.compare(conn, site, ["entries"], lo, hi)[0]
    value: dict[str, float | None] = {}
    unavailable: dict[str, str] = {}
    for k in ("unique_visitors", "transactions", "conversion"):
        try:
            value[k] = kpis.answer(conn, site, k, lo, hi)
        except Unanswerable as exc:  # not kept for that day: null with the reason, never 0
            value[k], unavailable[k] = None, str(exc)
    visitors = value["unique_visitors"]
    return {
        "id": site.id,
        "name": site.site.name,
        "timezone": tz.key,
        "from": lo.isoformat(),
        "to": hi.astimezone(tz).isoformat(),
        "entries": int(entries["value"] or 0),
        "entries_last_week": int(entries["last_week"]["value"] or 0),
        "entries_last_year": int(entries["last_year"]["value"] or 0),
        "change_last_week": entries["last_week"]["change"],
        "change_last_year": entries["last_year"]["change"],
        "unique_visitors": None if visitors is None else int(visitors),
        "transactions": int(value["transactions"] or 0),
        "conversion": value["conversion"],
        "unavailable": unavailable,
    }


def _portfolio(conn: Conn, sites: list[Site], day: date | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    out = [_site_figures(conn, s, day, now) for s in sites]
    opened = alert_store.open_alert_counts(conn, [s.id for s in sites])
    for row in out:
        row["open_alerts"] = opened.get(row["id"], 0)
    totals: dict[str, float | None] = {  # a sum missing a site's figure is not shown either
        k: None if any(r[k] is None for r in out) else float(sum(r[k] for r in out))
        for k in (
            "entries",
            "entries_last_week",
            "entries_last_year",
            "unique_visitors",
            "transactions",
            "open_alerts",
        )
    }
    totals["change_last_week"] = kpis.change(totals["entries"], totals["entries_last_week"])
    totals["change_last_year"] = kpis.change(totals["entries"], totals["entries_last_year"])
    return {"sites": sorted(out, key=lambda r: r["name"]), "totals": totals}


@router.get(
    "/portfolio",
    response_model=models.Portfolio,
    summary="Every site the key may see: a day's entries against last week and last year, "
    "unique visitors, transactions, conversion and open alerts",
    responses=ERROR_RESPONSES,
)
async def portfolio(
    request: Request,
    state: State,
    day: Annotated[
        date | None,
        Query(description="Day, YYYY-MM-DD, in each site's time zone; default each site's today."),
    ] = None,
    x_api_key: Annotated[str | None, Header(description="An API key.", max_length=200)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    if day is not None and not EARLIEST.date() < day < LATEST.date():
        raise unprocessable(
            f"day={day.isoformat()} is outside the supported range "
            f"{EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"
        )
    token = await _key(request, state, x_api_key, authorization)
    ids = await state.db.run(key_sites, token)
    if not ids:
        client = request.client.host if request.client else "unknown"
        state.limiter.failed(client)
        raise HTTPException(
            401, "unknown API key; check it or create one with footfall cloud apikey create"
        )
    sites = [state.sites[i] for i in ids if i in state.sites]
    return JSONResponse(await state.db.run(_portfolio, sites, day))
