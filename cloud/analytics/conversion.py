"""Point-of-sale transactions and conversion: all of their SQL and the rule for a valid interval.

Conversion of a store over an interval = transactions in the interval / distinct visitors who
entered the store's zone in it (a zone visit starting in the interval; a visitor is the stitched
site-wide id, mode 'combined', or the local track while the stitcher has not decided it; staff
tracks are left out).
Transactions arrive per store (the id of a ``store`` zone) and interval (15, 30 or 60 minutes,
aligned to the site's clock), idempotently: the same store and interval sent again replaces the
figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from cloud.api.queries import _NOT_STAFF as NOT_STAFF
from footfall.errors import UserError
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]
Rows = list[dict[str, Any]]

INTERVAL_MINUTES = (15, 30, 60)
"""Lengths a transaction interval may have; each nests in the site's hours."""

MAX_ROWS = 10_000
"""Rows one request may send."""


class TransactionError(UserError):
    """A transaction row the API cannot store (the sentence names the row and the fix)."""


@dataclass(frozen=True)
class Transactions:
    """One store's transactions in [start, start + minutes)."""

    store: str
    start: datetime
    minutes: int
    transactions: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def store_ids(site: Site) -> list[str]:
    """The zones that are stores: the ids transactions may be sent for."""
    return [z.id for z in site.zones if z.kind == "store"]


def check_row(site: Site, row: Transactions, where: str) -> None:
    """Refuse a row naming no store of the site, or an interval that is not on the clock."""
    stores = store_ids(site)
    if row.store not in stores:
        known = ", ".join(stores) or "none: give a zone kind: store"
        raise TransactionError(
            f"{where}: {row.store!r} is not a store of site {site.id!r}; stores are the zones "
            f"of kind store ({known})"
        )
    if row.minutes not in INTERVAL_MINUTES:
        raise TransactionError(
            f"{where}: minutes={row.minutes} is not an interval length; use 15, 30 or 60"
        )
    if row.transactions < 0:
        raise TransactionError(f"{where}: transactions={row.transactions} must be 0 or more")
    local = row.start.astimezone(ZoneInfo(site.site.timezone))
    if local.second or local.microsecond or local.minute % row.minutes:
        raise TransactionError(
            f"{where}: start {local.isoformat()} is not on a {row.minutes}-minute boundary of "
            "the site's clock; start intervals at :00 (or :15, :30, :45 for shorter ones)"
        )


def store_transactions(conn: Conn, site_id: str, rows: list[Transactions]) -> tuple[int, int]:
    """Upsert ``rows`` in one transaction; returns (new, replaced). An interval that overlaps a
    stored one of another length for the same store is refused (it would count twice)."""
    new = replaced = 0
    with conn.transaction():
        for i, r in enumerate(rows):
            clash = conn.execute(
                """
                SELECT interval_start, interval_end FROM pos_transaction
                WHERE site_id = %s AND store_id = %s AND interval_start <> %s
                  AND interval_start < %s AND interval_end > %s
                LIMIT 1
                """,
                (site_id, r.store, r.start, r.end, r.start),
            ).fetchone()
            if clash is not None:
                raise TransactionError(
                    f"row {i + 1}: {r.store} {r.start.isoformat()} ({r.minutes} min) overlaps the "
                    f"stored interval {clash[0]} .. {clash[1]}; send intervals of one length per "
                    "store, or the same interval again to correct it"
                )
            row = conn.execute(
                """
                INSERT INTO pos_transaction
                    (site_id, store_id, interval_start, interval_end, transactions)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (site_id, store_id, interval_start) DO UPDATE
                SET interval_end = excluded.interval_end, transactions = excluded.transactions,
                    received_at = now()
                RETURNING (xmax = 0)
                """,
                (site_id, r.store, r.start, r.end, r.transactions),
            ).fetchone()
            if row and row[0]:
                new += 1
            else:
                replaced += 1
    return new, replaced


# Visits into the stores with their visitor (stitched where decided); staff tracks (recorded by
# the stitch service's staff pass in staff_track) are left out.
_STORE_VISITS = f"""
WITH v AS (
    SELECT z.zone_id AS store_id, z.enter_at,
           coalesce(s.visitor_id, z.camera_id || '/' || z.track_id) AS visitor_id
    FROM zone_visit z
    LEFT JOIN tracklet_visitor s
      ON s.site_id = z.site_id AND s.camera_id = z.camera_id
     AND s.track_id = z.track_id AND s.mode = 'combined'
    WHERE z.site_id = %(site)s AND z.zone_id = ANY(%(stores)s)
      AND z.enter_at >= %(lo)s AND z.enter_at < %(hi)s
      AND {NOT_STAFF.format(t="z")}
)
"""


def conversion(
    conn: Conn,
    site_id: str,
    stores: list[str],
    lo: datetime,
    hi: datetime,
    bucket: timedelta,
    tz: str,
) -> Rows:
    """Per bucket (site-local hours or days) and store: visitors, transactions, conversion."""
    params = {"site": site_id, "stores": stores, "lo": lo, "hi": hi, "bucket": bucket, "tz": tz}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _STORE_VISITS
            + """
            , seen AS (
                SELECT time_bucket(%(bucket)s, enter_at, %(tz)s) AS bucket, store_id,
                       count(DISTINCT visitor_id)::int AS visitors
                FROM v GROUP BY 1, 2
            ), sold AS (
                SELECT time_bucket(%(bucket)s, interval_start, %(tz)s) AS bucket, store_id,
                       sum(transactions)::int AS transactions
                FROM pos_transaction
                WHERE site_id = %(site)s AND store_id = ANY(%(stores)s)
                  AND interval_start >= %(lo)s AND interval_start < %(hi)s
                GROUP BY 1, 2
            )
            SELECT bucket, store_id, coalesce(visitors, 0) AS visitors,
                   coalesce(transactions, 0) AS transactions,
                   transactions::float8 / nullif(visitors, 0) AS conversion,
                   transactions IS NOT NULL AS reported
            FROM seen FULL JOIN sold USING (bucket, store_id)
            ORDER BY bucket, store_id
            """,
            params,
        ).fetchall()


def conversion_totals(
    conn: Conn, site_id: str, stores: list[str], lo: datetime, hi: datetime
) -> dict[str, dict[str, Any]]:
    """Per store over the whole range: distinct visitors, transactions, conversion."""
    params = {"site": site_id, "stores": stores, "lo": lo, "hi": hi}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            _STORE_VISITS
            + """
            , seen AS (
                SELECT store_id, count(DISTINCT visitor_id)::int AS visitors FROM v GROUP BY 1
            ), sold AS (
                SELECT store_id, sum(transactions)::int AS transactions FROM pos_transaction
                WHERE site_id = %(site)s AND store_id = ANY(%(stores)s)
                  AND interval_start >= %(lo)s AND interval_start < %(hi)s
                GROUP BY 1
            )
            SELECT store_id, coalesce(visitors, 0) AS visitors,
                   coalesce(transactions, 0) AS transactions,
                   transactions::float8 / nullif(visitors, 0) AS conversion
            FROM seen FULL JOIN sold USING (store_id)
            """,
            params,
        ).fetchall()
    found = {r["store_id"]: r for r in rows}
    empty = {"visitors": 0, "transactions": 0, "conversion": None}
    return {s: {"store_id": s, **empty, **found.get(s, {})} for s in stores}
