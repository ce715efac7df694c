"""All SQL of the alerts: the figures the rules read, the alert rows and the webhook outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[object, ...]]
Rows = list[dict[str, Any]]


def _rows(conn: Conn, sql: str, params: dict[str, Any]) -> Rows:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def lock_site(conn: Conn, site_id: str) -> None:
    """One evaluator per site at a time (transaction-scoped advisory lock)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('footfall-alerts:' || %s))", (site_id,))


def camera_heartbeats(conn: Conn, site_id: str, now: datetime) -> dict[str, dict[str, Any]]:
    """Per camera: the last heartbeat at or before ``now`` (sent_at, status), and since when
    its heartbeats have been degraded or error without an ok one between (``bad_since``)."""
    rows = _rows(
        conn,
        """
        WITH last AS (
            SELECT DISTINCT ON (camera_id) camera_id, sent_at, status
            FROM heartbeat WHERE site_id = %(site)s AND sent_at <= %(now)s
            ORDER BY camera_id, sent_at DESC
        ), good AS (
            SELECT camera_id, max(sent_at) AS at FROM heartbeat
            WHERE site_id = %(site)s AND sent_at <= %(now)s
              AND status NOT IN ('degraded', 'error')
            GROUP BY camera_id
        )
        SELECT l.camera_id, l.sent_at, l.status,
               (SELECT min(h.sent_at) FROM heartbeat h
                WHERE h.site_id = %(site)s AND h.camera_id = l.camera_id
                  AND h.sent_at <= %(now)s AND h.sent_at > coalesce(g.at, '-infinity')
                  AND h.status IN ('degraded', 'error')) AS bad_since
        FROM last l LEFT JOIN good g USING (camera_id)
        """,
        {"site": site_id, "now": now},
    )
    return {r["camera_id"]: r for r in rows}


def open_alerts(conn: Conn, site_id: str) -> dict[str, dict[str, Any]]:
    rows = _rows(
        conn,
        "SELECT * FROM alert WHERE site_id = %(site)s AND cleared_at IS NULL",
        {"site": site_id},
    )
    return {r["alert_key"]: r for r in rows}


def fire(
    conn: Conn,
    site_id: str,
    key: str,
    kind: str,
    subject: str,
    severity: str,
    message: str,
    detail: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    rows = _rows(
        conn,
        """
        INSERT INTO alert (site_id, alert_key, kind, subject, severity, message, detail, fired_at)
        VALUES (%(site)s, %(key)s, %(kind)s, %(subject)s, %(severity)s, %(message)s,
                %(detail)s, %(at)s)
        RETURNING *
        """,
        {
            "site": site_id,
            "key": key,
            "kind": kind,
            "subject": subject,
            "severity": severity,
            "message": message,
            "detail": Jsonb(detail),
            "at": at,
        },
    )
    return rows[0]


def clear(conn: Conn, alert_id: int, message: str, at: datetime) -> dict[str, Any]:
    rows = _rows(
        conn,
        "UPDATE alert SET cleared_at = %(at)s, clear_message = %(message)s WHERE id = %(id)s "
        "RETURNING *",
        {"id": alert_id, "at": at, "message": message},
    )
    return rows[0]


def enqueue(
    conn: Conn,
    site_id: str,
    webhook: str,
    url: str,
    event: str,
    alert_id: int,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO webhook_outbox (site_id, webhook, url, event, alert_id, payload, "
        "created_at, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (site_id, webhook, url, event, alert_id, Jsonb(payload), at, at),
    )


def next_delivery(conn: Conn, site_id: str, webhook: str) -> dict[str, Any] | None:
    """The oldest undelivered row of one webhook (locked; None when none or another worker has
    it): deliveries to one receiver go in order, so 'cleared' never overtakes 'fired'."""
    rows = _rows(
        conn,
        """
        SELECT * FROM webhook_outbox
        WHERE site_id = %(site)s AND webhook = %(webhook)s
          AND delivered_at IS NULL AND gave_up_at IS NULL
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
        """,
        {"site": site_id, "webhook": webhook},
    )
    return rows[0] if rows else None


def delivered(conn: Conn, outbox_id: int, at: datetime) -> None:
    conn.execute(
        "UPDATE webhook_outbox SET delivered_at = %s, attempts = attempts + 1, last_error = NULL "
        "WHERE id = %s",
        (at, outbox_id),
    )


def failed(
    conn: Conn, outbox_id: int, error: str, retry_at: datetime, give_up: datetime | None
) -> None:
    conn.execute(
        "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = %s, "
        "next_attempt_at = %s, gave_up_at = %s WHERE id = %s",
        (error[:500], retry_at, give_up, outbox_id),
    )


def alerts(conn: Conn, site_id: str, lo: datetime, hi: datetime, limit: int = 500) -> Rows:
    """Alerts open at some time in [lo, hi), newest first, with their deliveries' state."""
    return _rows(
        conn,
        """
        SELECT a.id, a.alert_key, a.kind, a.subject, a.severity, a.message, a.detail,
               a.fired_at, a.cleared_at, a.clear_message,
               count(o.id)::int AS deliveries,
               (count(o.id) FILTER (WHERE o.delivered_at IS NOT NULL))::int AS delivered,
               (count(o.id) FILTER (WHERE o.delivered_at IS NULL AND o.gave_up_at IS NULL))::int
                 AS pending
        FROM alert a LEFT JOIN webhook_outbox o ON o.alert_id = a.id
        WHERE a.site_id = %(site)s AND a.fired_at < %(hi)s
          AND (a.cleared_at IS NULL OR a.cleared_at >= %(lo)s)
        GROUP BY a.id ORDER BY a.fired_at DESC, a.id DESC LIMIT %(limit)s
        """,
        {"site": site_id, "lo": lo, "hi": hi, "limit": limit},
    )


def open_alert_counts(conn: Conn, site_ids: list[str]) -> dict[str, int]:
    rows = conn.execute(
        "SELECT site_id, count(*)::int FROM alert WHERE site_id = ANY(%s) AND cleared_at IS NULL "
        "GROUP BY site_id",
        (site_ids,),
    ).fetchall()
    return {str(r[0]): int(str(r[1])) for r in rows}
