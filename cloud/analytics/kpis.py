"""Key figures of a site over a time range, and the same range last week and last year.

"Last week" is the range moved 7 days back, "last year" 364 days back (52 weeks: the same
weekdays, as retail compares), both on the site's wall clock (a range across a daylight-saving
change keeps its local hours). Days older than the raw retention are answered from the rollups
of :mod:`cloud.analytics.sealed` (zone visits, dwell, conversion, entries without staff); a
figure no rollup keeps (unique visitors) is unavailable there, with a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from cloud.analytics import conversion as pos
from cloud.analytics import sealed
from cloud.api import queries
from cloud.api.params import TimeRange
from cloud.api.queries import _NOT_STAFF as NOT_STAFF
from cloud.api.routers.overview import entry_lines
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]

PERIODS = {"last_week": 7, "last_year": 364}
"""Earlier periods compared with, and how many days back each is."""

KPIS: dict[str, str] = {
    "entries": "Entries over the entrance lines (staff left out)",
    "exits": "Exits over the entrance lines (staff left out)",
    "unique_visitors": "Unique visitors (stitched, held-back fragments left out)",
    "zone_visits": "Zone visits (one zone with zone=)",
    "dwell_mean_s": "Mean dwell time in zones, seconds (one zone with zone=)",
    "occupancy_peak": "Peak people at once, from minute snapshots (one zone with zone=)",
    "transactions": "Point-of-sale transactions",
    "conversion": "Conversion: transactions / visitors who entered the stores",
}
"""Every KPI the comparisons know, with what it counts."""


def shift(at: datetime, days: int, tz: ZoneInfo) -> datetime:
    """``at`` moved ``days`` back on the site's wall clock."""
    local = at.astimezone(tz).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=tz)


def _scalar(conn: Conn, sql: str, params: tuple[Any, ...]) -> float | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None or row[0] is None else float(str(row[0]))


def _zone_filter(zone: str | None) -> str:
    return "" if zone is None else " AND zone_id = %s"


NO_STAFF_VISITS = " AND " + NOT_STAFF.format(t="zone_visit")
"""Zone visits of staff tracks left out."""


def _zone_visits(
    conn: Conn, site: Site, what: str, lo: datetime, hi: datetime, zone: str | None
) -> tuple[int, float]:
    """(visits, summed dwell seconds) of visits starting in [lo, hi), staff left out: from the
    hourly rollup for days retention has sealed, from the zone visits after."""
    part = sealed.split(conn, site, lo, hi, what)
    z = (zone,) if zone else ()
    visits, dwell = 0, 0.0
    for span, query in (
        (
            part.rolled,
            "SELECT coalesce(sum(visits), 0), coalesce(sum(dwell_sum_s), 0) FROM zone_visit_hour "
            "WHERE site_id = %s AND hour >= %s AND hour < %s" + _zone_filter(zone),
        ),
        (
            part.raw,
            "SELECT count(*), coalesce(sum(dwell_s), 0) FROM zone_visit WHERE site_id = %s "
            "AND enter_at >= %s AND enter_at < %s" + NO_STAFF_VISITS + _zone_filter(zone),
        ),
    ):
        if span is not None:
            row = conn.execute(query, (site.id, *span, *z)).fetchone()
            assert row is not None
            visits += int(row[0])  # type: ignore[call-overload]
            dwell += float(row[1])  # type: ignore[arg-type]
    return visits, dwell


def answer(
    conn: Conn, site: Site, kpi: str, lo: datetime, hi: datetime, zone: str | None = None
) -> float | None:
    """The value of ``kpi`` over [lo, hi) (None: nothing to average or divide); raises
    :class:`~cloud.analytics.sealed.Unanswerable` for a range the kept rows cannot answer."""
    if kpi in ("entries", "exits"):  # as the footfall API counts them: staff left out
        r = TimeRange(lo, hi, timedelta(days=1), ZoneInfo(site.site.timezone))
        lines = set(entry_lines(site))
        rows = [x for x in queries.footfall(conn, site.id, r) if x["line_id"] in lines]
        return float(sum(x["ins" if kpi == "entries" else "outs"] for x in rows))
    if kpi == "unique_visitors":  # from the stitched tracks: no rollup keeps them
        sealed.refuse_dropped(conn, site, lo, hi, "unique visitors")
        r = TimeRange(lo, hi, timedelta(hours=1), ZoneInfo(site.site.timezone))
        return float(queries.visitor_summary(conn, site.id, r)["unique_visitors"])
    if kpi in ("zone_visits", "dwell_mean_s"):
        visits, dwell = _zone_visits(conn, site, KPIS[kpi], lo, hi, zone)
        if kpi == "zone_visits":
            return float(visits)
        return dwell / visits if visits else None
    if kpi == "occupancy_peak":
        z = (zone,) if zone else ()
        value = _scalar(
            conn,
            "SELECT max(n) FROM (SELECT sum(occupancy) AS n FROM occupancy_minute "
            "WHERE site_id = %s AND minute >= %s AND minute < %s"
            + _zone_filter(zone)
            + " GROUP BY minute) m",
            (site.id, lo, hi, *z),
        )
        return value if value is not None else 0.0
    stores = pos.store_ids(site)
    if kpi == "transactions":  # kept for good
        return float(sum(n for *_, n in pos.transactions_in(conn, site, stores, lo, hi)))
    if kpi == "conversion":
        totals = pos.conversion_totals(conn, site, stores, lo, hi).values()
        sold = sum(int(t["transactions"]) for t in totals)
        seen = sum(int(t["visitors"]) for t in totals)
        return sold / seen if seen else None
    raise KeyError(kpi)


def kpi_value(
    conn: Conn, site: Site, kpi: str, lo: datetime, hi: datetime, zone: str | None = None
) -> float | None:
    """As :func:`answer`, None where the range cannot be answered."""
    try:
        return answer(conn, site, kpi, lo, hi, zone)
    except sealed.Unanswerable:
        return None


def change(now: float | None, before: float | None) -> float | None:
    """now / before - 1 (None when either is missing or before is 0)."""
    if now is None or not before:
        return None
    return now / before - 1.0


def compare(
    conn: Conn,
    site: Site,
    kpis: list[str],
    lo: datetime,
    hi: datetime,
    zone: str | None = None,
    value: Callable[..., float | None] = answer,
) -> list[dict[str, Any]]:
    """Each KPI over [lo, hi) and over the same range last week and last year; a figure the
    kept rows cannot answer is None with ``unavailable``, the sentence saying why."""
    tz = ZoneInfo(site.site.timezone)

    def figure(a: datetime, b: datetime) -> tuple[float | None, str | None]:
        try:
            return value(conn, site, kpi, a, b, zone), None
        except sealed.Unanswerable as exc:
            return None, str(exc)

    out = []
    for kpi in kpis:
        current, why = figure(lo, hi)
        entry: dict[str, Any] = {
            "kpi": kpi,
            "label": KPIS[kpi],
            "value": current,
            "unavailable": why,
        }
        for name, days in PERIODS.items():
            plo, phi = shift(lo, days, tz), shift(hi, days, tz)
            before, why = figure(plo, phi)
            entry[name] = {
                "from": plo.isoformat(),
                "to": phi.isoformat(),
                "value": before,
                "change": change(current, before),
                "unavailable": why,
            }
        out.append(entry)
    return out
