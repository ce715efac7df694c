"""Rollups that outlive the raw rows: what conversion, zone visits, dwell and footfall without
staff need once retention has dropped the zone visits, line crossings, stitched ids and staff
tracks they are counted from.

The retention pass (:func:`cloud.analytics.retention.enforce_retention`) calls :func:`seal`
for each site before it drops anything: every site-local day before the day that holds the raw
cut-off, not sealed yet, is rolled up from the raw rows (still whole then) into
``zone_visitors_day``, ``zone_visit_hour`` and ``staff_footfall_minute``, and
``rollup_sealed.until`` moves to the end of those days. Sealing a day again replaces its rows, so
a re-run counts nothing twice. The API reads the rollups for the days before ``until`` and the
raw rows from ``until`` on, so a figure does not change when the raw rows are dropped; before
``since`` (raw rows dropped before these rollups existed) it says the figure cannot be answered
where the footfall rollup shows people were counted (and answers an empty range as empty).

Distinct visitors are not additive over hours, so ``zone_visitors_day`` keeps, per zone and day,
how many visitors entered in each pattern of the day's hours (bit i: the hour starting i hours
after the site-local midnight). Distinct visitors over any whole hours of a day are then the
visitors whose pattern meets those hours; over several days, the sum of the days (a visitor is
counted once per day, on the raw rows as on the rollups).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from cloud.api.queries import _NOT_STAFF as NOT_STAFF
from footfall.errors import UserError
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]

log = logging.getLogger("footfall.cloud.retention")

HOUR = timedelta(hours=1)

COMPLETE_FROM = ("zone_visit", "line_crossing", "tracklet_visitor", "staff_track")
"""Raw tables the rollups are made from: the first seal of a site starts at the first site-local
day from which all of them are whole (their earliest chunk that retention has not dropped)."""


class Unanswerable(UserError):
    """A figure asked for a range the kept rows cannot answer (the sentence says why)."""


@dataclass(frozen=True)
class Sealed:
    """The rollups hold the site-local days in [since, until)."""

    since: datetime
    until: datetime


def local_midnight(at: datetime, tz: ZoneInfo) -> datetime:
    return datetime.combine(at.astimezone(tz).date(), time(0), tzinfo=tz)


def next_midnight(at: datetime, tz: ZoneInfo) -> datetime:
    """The first site-local midnight at or after ``at``."""
    day = local_midnight(at, tz)
    if day >= at:
        return day
    return datetime.combine(day.date() + timedelta(days=1), time(0), tzinfo=tz)


def on_the_hour(at: datetime, tz: ZoneInfo) -> bool:
    """Whether ``at`` starts an hour of the site-local day (as the rollups' hours do)."""
    return (at.astimezone(UTC) - local_midnight(at, tz).astimezone(UTC)) % HOUR == timedelta(0)


def sealed(conn: Conn, site_id: str) -> Sealed | None:
    row = conn.execute(
        "SELECT since, until FROM rollup_sealed WHERE site_id = %s", (site_id,)
    ).fetchone()
    if row is None:
        return None
    return Sealed(row[0], row[1])  # type: ignore[arg-type]


def _complete_from(conn: Conn) -> datetime | None:
    """The time from which every raw table the rollups need is whole (None: no rows yet)."""
    rows = conn.execute(
        "SELECT hypertable_name, min(range_start) FROM timescaledb_information.chunks "
        "WHERE hypertable_schema = current_schema() AND hypertable_name = ANY(%s) GROUP BY 1",
        (list(COMPLETE_FROM),),
    ).fetchall()
    starts = [r[1] for r in rows if r[1] is not None]
    return max(starts) if starts else None  # type: ignore[type-var, return-value]


# Site-local midnight and hour of a time column, as every query of these figures cuts days and
# hours (the raw rows' and the rollups' alike).
def _day(col: str) -> str:
    return f"time_bucket(INTERVAL '1 day', {col}, %(tz)s)"


def _hour_index(col: str) -> str:
    return f"floor(extract(epoch FROM {col} - {_day(col)}) / 3600)::int"


VISITOR_PATTERNS = f"""
WITH v AS (
    SELECT z.zone_id, {_day("z.enter_at")} AS day_start, {_hour_index("z.enter_at")} AS hour,
           coalesce(a.merged_into, s.visitor_id, z.camera_id || '/' || z.track_id) AS visitor_id
    FROM zone_visit z
    LEFT JOIN tracklet_visitor s
      ON s.site_id = z.site_id AND s.camera_id = z.camera_id
     AND s.track_id = z.track_id AND s.mode = 'combined'
    LEFT JOIN visitor_alias a
      ON a.site_id = s.site_id AND a.mode = s.mode AND a.visitor_id = s.visitor_id
    WHERE z.site_id = %(site)s AND z.enter_at >= %(lo)s AND z.enter_at < %(hi)s
      AND ({{zones}}) AND {NOT_STAFF.format(t="z")}
), p AS (
    SELECT zone_id, day_start, visitor_id, bit_or(1::bigint << hour) AS hours
    FROM v GROUP BY 1, 2, 3
)
SELECT zone_id, day_start, hours, count(*)::int AS visitors FROM p GROUP BY 1, 2, 3
"""
"""Per zone and site-local day: visitors by the pattern of hours they entered the zone in
(stitched id where decided, merged ids as one, staff tracks left out)."""

_SEAL = (
    "DELETE FROM zone_visitors_day WHERE site_id = %(site)s AND day_start >= %(lo)s "
    "AND day_start < %(hi)s",
    "INSERT INTO zone_visitors_day (site_id, zone_id, day_start, hours, visitors) "
    "SELECT %(site)s, * FROM (" + VISITOR_PATTERNS.format(zones="true") + ") x",
    "DELETE FROM zone_visit_hour WHERE site_id = %(site)s AND hour >= %(lo)s AND hour < %(hi)s",
    f"""
    INSERT INTO zone_visit_hour (site_id, zone_id, hour, visits, dwell_sum_s)
    SELECT %(site)s, zone_id, {_day("enter_at")} + {_hour_index("enter_at")} * INTERVAL '1 hour',
           count(*), sum(dwell_s)
    FROM zone_visit z
    WHERE site_id = %(site)s AND enter_at >= %(lo)s AND enter_at < %(hi)s
      AND {NOT_STAFF.format(t="z")}
    GROUP BY 1, 2, 3
    """,
    "DELETE FROM staff_footfall_minute WHERE site_id = %(site)s AND minute >= %(lo)s "
    "AND minute < %(hi)s",
    """
    INSERT INTO staff_footfall_minute (site_id, line_id, minute, ins, outs)
    SELECT %(site)s, c.line_id, date_trunc('minute', c.at),
           count(*) FILTER (WHERE c.direction = 1), count(*) FILTER (WHERE c.direction = -1)
    FROM line_crossing c
    WHERE c.site_id = %(site)s AND c.at >= %(lo)s AND c.at < %(hi)s
      AND EXISTS (SELECT 1 FROM staff_track st WHERE st.site_id = c.site_id
                  AND st.camera_id = c.camera_id AND st.track_id = c.track_id)
    GROUP BY 1, 2, 3
    """,
)


def seal_days(conn: Conn, site: Site, lo: datetime, hi: datetime) -> None:
    """(Re)write the rollups of the site-local days in [lo, hi) from the raw rows."""
    params = {"site": site.id, "lo": lo, "hi": hi, "tz": site.site.timezone}
    for statement in _SEAL:
        conn.execute(statement, params)


def seal(conn: Conn, site: Site, cut: datetime) -> Sealed | None:
    """Roll up the site's days not sealed yet that end at or before the first site-local
    midnight after ``cut`` (raw rows before ``cut`` may be dropped next), and record them.
    Returns what is sealed now (None: no raw rows were ever stored)."""
    tz = ZoneInfo(site.site.timezone)
    until = next_midnight(cut, tz)
    before = sealed(conn, site.id)
    if before is None:
        whole = _complete_from(conn)
        if whole is None:
            return None
        since = min(next_midnight(whole, tz), until)
        lo = since
    else:
        since, lo = before.since, before.until
    if lo < until:
        seal_days(conn, site, lo, until)
        log.info("sealed rollups site=%s days=%s..%s", site.id, lo.date(), until.date())
    conn.execute(
        """
        INSERT INTO rollup_sealed (site_id, since, until) VALUES (%s, %s, %s)
        ON CONFLICT (site_id) DO UPDATE SET until = greatest(rollup_sealed.until, excluded.until)
        """,
        (site.id, since, until),
    )
    return sealed(conn, site.id)


def _counted(conn: Conn, site_id: str, lo: datetime, hi: datetime) -> bool:
    """Whether anyone was counted in [lo, hi) (the footfall rollup is kept for good): days
    before the rollups with no one counted are answered as empty, not refused."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM footfall_minute WHERE site_id = %s AND minute >= %s "
        "AND minute < %s)",
        (site_id, lo, hi),
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Split:
    """A range cut where the rollups end: [lo, hi) of each part, None where empty."""

    rolled: tuple[datetime, datetime] | None
    raw: tuple[datetime, datetime] | None


def split(
    conn: Conn, site: Site, lo: datetime, hi: datetime, what: str, exact_hours: bool = True
) -> Split:
    """Which part of [lo, hi) the rollups answer and which the raw rows; raises
    :class:`Unanswerable` (one sentence) for a part that neither can answer."""
    s = sealed(conn, site.id)
    if s is None or lo >= s.until:
        return Split(None, (lo, hi))
    tz = ZoneInfo(site.site.timezone)
    if lo < s.since and _counted(conn, site.id, lo, min(hi, s.since)):
        raise Unanswerable(
            f"{what} before {s.since.astimezone(tz).isoformat()} cannot be answered: the rows "
            "it is counted from were dropped by retention before its rollups were kept; ask "
            "from then on"
        )
    mid = min(hi, s.until)
    if exact_hours:
        # before `since` nothing was counted (or it was refused above): no hour to cut there
        for at in (lo, mid):
            if at >= s.since and not on_the_hour(at, tz):
                raise Unanswerable(
                    f"{what} before {s.until.astimezone(tz).isoformat()} is kept per hour (the "
                    f"raw rows are dropped): start and end the range on the hour, not "
                    f"{at.astimezone(tz).isoformat()}"
                )
    return Split((lo, mid), (mid, hi) if hi > mid else None)


def visitor_patterns(
    conn: Conn, site: Site, zones: list[str], lo: datetime, hi: datetime, what: str
) -> tuple[list[dict[str, Any]], Split]:
    """Per zone and site-local day, visitors by the pattern of hours they entered in, over
    [lo, hi): from the rollups for sealed days, from the raw rows after (see the module)."""
    part = split(conn, site, lo, hi, what)
    rows: list[dict[str, Any]] = []
    cols = ("zone_id", "day_start", "hours", "visitors")
    if part.rolled is not None:
        found: list[tuple[Any, ...]] = conn.execute(
            "SELECT zone_id, day_start, hours, visitors FROM zone_visitors_day "
            "WHERE site_id = %s AND zone_id = ANY(%s) AND day_start > %s - INTERVAL '2 days' "
            "AND day_start < %s",
            (site.id, zones, part.rolled[0], part.rolled[1]),
        ).fetchall()
        for r in found:
            row = dict(zip(cols, r, strict=True))
            mask = range_mask(row["day_start"], *part.rolled)
            if row["hours"] & mask:
                rows.append({**row, "hours": row["hours"] & mask})
    if part.raw is not None:
        params = {
            "site": site.id,
            "lo": part.raw[0],
            "hi": part.raw[1],
            "tz": site.site.timezone,
            "zones": zones,
        }
        for r in conn.execute(
            VISITOR_PATTERNS.format(zones="z.zone_id = ANY(%(zones)s)"), params
        ).fetchall():
            rows.append(dict(zip(cols, r, strict=True)))
    return rows, part


def range_mask(day_start: datetime, lo: datetime, hi: datetime) -> int:
    """The bits of the day's hours that start in [lo, hi)."""
    mask = 0
    for i in range(25):
        at = day_start.astimezone(UTC) + i * HOUR
        if lo <= at < hi:
            mask |= 1 << i
    return mask


def hours_of(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def refuse_dropped(conn: Conn, site: Site, lo: datetime, hi: datetime, what: str) -> None:
    """Raise :class:`Unanswerable` when [lo, hi) reaches into the days whose per-person rows
    retention may have dropped and people were counted then (a figure only the raw rows give,
    and no rollup keeps, would read as zero)."""
    s = sealed(conn, site.id)
    if s is None or lo >= s.until or not _counted(conn, site.id, lo, min(hi, s.until)):
        return
    until = s.until.astimezone(ZoneInfo(site.site.timezone)).isoformat()
    raise Unanswerable(
        f"{what} before {until} cannot be answered: retention has dropped the per-person rows "
        f"it is counted from; ask from {until} on (/compare and /conversion keep zone visits, "
        "mean dwell and conversion for older days)"
    )
