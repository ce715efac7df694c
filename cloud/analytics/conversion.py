"""Point-of-sale transactions and conversion: all of their SQL and the rule for a valid interval.

Conversion of a store over an interval = transactions in the interval / distinct visitors who
entered the store's zone in it (a zone visit starting in the interval; a visitor is the stitched
site-wide id, mode 'combined', merged ids as one, or the local track while the stitcher has not
decided it; staff tracks are left out). Over more than a day, a visitor counts once per
site-local day they entered the store on. Days older than the raw retention come from the
rollups of :mod:`cloud.analytics.sealed`, with the same figures.
Transactions arrive per store (the id of a ``store`` zone) and interval (15, 30 or 60 minutes,
aligned to the site's clock), idempotently: the same store and interval sent again replaces the
figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from cloud.analytics import sealed
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


def transactions_in(
    conn: Conn, site: Site, stores: list[str], lo: datetime, hi: datetime
) -> list[tuple[str, datetime, datetime, int]]:
    """(store, site-local midnight of the interval, interval start, transactions) in [lo, hi);
    transactions are kept for good, so these come from the stored rows at any age."""
    rows: list[tuple[Any, ...]] = conn.execute(
        """
        SELECT store_id, time_bucket(INTERVAL '1 day', interval_start, %s), interval_start,
               transactions
        FROM pos_transaction
        WHERE site_id = %s AND store_id = ANY(%s) AND interval_start >= %s AND interval_start < %s
        """,
        (site.site.timezone, site.id, stores, lo, hi),
    ).fetchall()
    return [(str(s), d.astimezone(UTC), t.astimezone(UTC), int(n)) for s, d, t, n in rows]


def _hour(day: datetime, at: datetime) -> datetime:
    """The start of the site-local hour of the day (from its midnight ``day``) ``at`` is in."""
    return day + ((at - day) // sealed.HOUR) * sealed.HOUR


def conversion(
    conn: Conn,
    site: Site,
    stores: list[str],
    lo: datetime,
    hi: datetime,
    bucket: timedelta,
) -> Rows:
    """Per bucket (site-local hours, or days when ``bucket`` is a day) and store: visitors,
    transactions, conversion. Days whose raw rows retention has sealed come from the rollups
    (see :mod:`cloud.analytics.sealed`); raises :class:`~cloud.analytics.sealed.Unanswerable`
    for a range they cannot answer."""
    daily = bucket >= timedelta(days=1)
    patterns, _ = sealed.visitor_patterns(conn, site, stores, lo, hi, "conversion")
    seen: dict[tuple[datetime, str], int] = defaultdict(int)
    for p in patterns:
        day = p["day_start"].astimezone(UTC)
        if daily:
            seen[(day, p["zone_id"])] += p["visitors"]
        else:
            for i in sealed.hours_of(p["hours"]):
                seen[(day + i * sealed.HOUR, p["zone_id"])] += p["visitors"]
    sold: dict[tuple[datetime, str], int] = defaultdict(int)
    for store, day, start, n in transactions_in(conn, site, stores, lo, hi):
        sold[(day if daily else _hour(day, start), store)] += n
    rows = []
    for key in sorted(set(seen) | set(sold)):
        visitors, transactions = seen.get(key, 0), sold.get(key)
        rows.append(
            {
                "bucket": key[0],
                "store_id": key[1],
                "visitors": visitors,
                "transactions": transactions or 0,
                "conversion": transactions / visitors
                if transactions is not None and visitors
                else None,
                "reported": transactions is not None,
            }
        )
    return rows


def conversion_totals(
    conn: Conn, site: Site, stores: list[str], lo: datetime, hi: datetime
) -> dict[str, dict[str, Any]]:
    """Per store over the whole range: visitors (distinct per site-local day, summed over the
    days), transactions, conversion (None when no transactions were reported)."""
    patterns, _ = sealed.visitor_patterns(conn, site, stores, lo, hi, "conversion")
    seen: dict[str, int] = defaultdict(int)
    for p in patterns:
        seen[p["zone_id"]] += p["visitors"]
    sold: dict[str, int] = {}
    for store, _, _, n in transactions_in(conn, site, stores, lo, hi):
        sold[store] = sold.get(store, 0) + n
    out = {}
    for s in stores:
        visitors, transactions = seen.get(s, 0), sold.get(s)
        out[s] = {
            "store_id": s,
            "visitors": visitors,
            "transactions": transactions or 0,
            "conversion": transactions / visitors
            if transactions is not None and visitors
            else None,
        }
    return out
