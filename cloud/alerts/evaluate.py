"""Evaluating a site's alert rules at a moment: which conditions hold, and the alert changes.

Each rule watches subjects (a zone, the site's entrances, a camera) under a key such as
``occupancy:food-court``; a site has at most one open alert per key. :func:`evaluate_site` fires
an alert for a condition that holds with none open, clears an open one whose condition ended
(or whose rule left the config), and queues a webhook delivery per change and webhook, all in
one transaction with the site's advisory lock held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cloud.alerts import store
from cloud.api import queries
from cloud.api.routers.overview import entry_lines
from footfall.site import Site

log = logging.getLogger("footfall.cloud.alerts")

Conn = store.Conn


@dataclass(frozen=True)
class Condition:
    """What one rule found about one subject: ``active`` when it should alert now."""

    key: str
    kind: str
    subject: str
    severity: str
    active: bool
    message: str
    """Why it fires (active), or why it cleared (not active)."""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Changes:
    fired: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[dict[str, Any]] = field(default_factory=list)
    queued: int = 0


def _zone_name(site: Site, zone_id: str) -> str:
    try:
        return site.zone(zone_id).name
    except KeyError:
        return zone_id


def occupancy_conditions(
    conn: Conn, site: Site, now: datetime, stale_s: float, open_keys: set[str]
) -> list[Condition]:
    rules = site.alerts.occupancy
    if not rules:
        return []
    since = now - timedelta(seconds=stale_s)
    people = {
        r["zone_id"]: int(r["occupancy"]) for r in queries.occupancy_now(conn, site.id, since, now)
    }
    out = []
    for rule in rules:
        key = f"occupancy:{rule.zone}"
        n = people.get(rule.zone, 0)
        name = _zone_name(site, rule.zone)
        # Fires above capacity; once open, holds until back at or below clear_below of it.
        limit = rule.capacity * rule.clear_below if key in open_keys else rule.capacity
        active = n > limit
        message = (
            f"{name} holds {n} people, above its capacity of {rule.capacity}"
            if active
            else f"{name} is back to {n} people (capacity {rule.capacity})"
        )
        detail = {"zone": rule.zone, "occupancy": n, "capacity": rule.capacity}
        out.append(Condition(key, "occupancy", rule.zone, "critical", active, message, detail))
    return out


def entrance_condition(conn: Conn, site: Site, now: datetime) -> list[Condition]:
    """Entries of the last full site-local hour against the same hour and weekday before."""
    rule = site.alerts.entrances
    if rule is None:
        return []
    tz = ZoneInfo(site.site.timezone)
    local = now.astimezone(tz)
    end_local = local.replace(minute=0, second=0, microsecond=0)
    hour_start = end_local - timedelta(hours=1)
    day, hour = hour_start.date(), hour_start.hour

    def span(d: Any) -> tuple[datetime, datetime]:
        lo = datetime.combine(d, time(hour), tzinfo=tz)
        return lo, lo + timedelta(hours=1)

    past = [day - timedelta(weeks=k) for k in range(1, rule.weeks + 1)]
    lines = entry_lines(site)
    rows = queries.entries_by_local_hour(
        conn, site.id, lines, [span(day), *(span(d) for d in past)], tz.key
    )
    ins = {(r["day"], r["hour"]): int(r["ins"]) for r in rows}
    entries = ins.get((day, hour), 0)
    usual = sum(ins.get((d, hour), 0) for d in past) / rule.weeks
    judged = usual >= rule.min_usual and usual > 0
    change = (entries - usual) / usual if usual else 0.0
    active = judged and abs(entries - usual) > rule.tolerance * usual
    when = f"{day:%a %d %b} {hour:02d}:00-{(hour + 1) % 24:02d}:00"
    if active:
        message = (
            f"entries {when} were {entries}, usual for that hour and weekday is {usual:.0f} "
            f"({change:+.0%})"
        )
    elif judged:
        message = f"entries {when} were {entries}, near the usual {usual:.0f}"
    else:
        message = f"entries {when}: usual level {usual:.0f} is below {rule.min_usual}, not judged"
    detail = {
        "hour_start": hour_start.isoformat(),
        "entries": entries,
        "usual": usual,
        "weeks": rule.weeks,
        "change": change,
    }
    return [Condition("entrances", "entrances", "entrances", "warning", active, message, detail)]


def camera_conditions(conn: Conn, site: Site, now: datetime) -> list[Condition]:
    rule = site.alerts.cameras
    if rule is None:
        return []
    beats = store.camera_heartbeats(conn, site.id, now)
    out = []
    for cam in site.cameras:
        last = beats.get(cam.id)
        if last is None:
            continue  # never heard from: nothing to compare with yet
        quiet_min = (now - last["sent_at"]).total_seconds() / 60
        silent = quiet_min > rule.silent_minutes
        out.append(
            Condition(
                f"camera-silent:{cam.id}",
                "camera",
                cam.id,
                "critical",
                silent,
                f"camera {cam.name} sent no heartbeat for {quiet_min:.0f} min "
                f"(limit {rule.silent_minutes:g} min)"
                if silent
                else f"camera {cam.name} is sending heartbeats again",
                {"camera": cam.id, "last_heartbeat": last["sent_at"].isoformat(), "silent": True},
            )
        )
        bad_since = last["bad_since"]
        bad_min = (now - bad_since).total_seconds() / 60 if bad_since else 0.0
        degraded = (
            not silent
            and last["status"] in ("degraded", "error")
            and bad_min >= rule.degraded_minutes
        )
        out.append(
            Condition(
                f"camera-degraded:{cam.id}",
                "camera",
                cam.id,
                "warning",
                degraded,
                f"camera {cam.name} has been {last['status']} for {bad_min:.0f} min "
                f"(limit {rule.degraded_minutes:g} min)"
                if degraded
                else f"camera {cam.name} is no longer degraded (last status {last['status']})",
                {"camera": cam.id, "status": last["status"]},
            )
        )
    return out


def payload(site: Site, event: str, alert: dict[str, Any]) -> dict[str, Any]:
    """The JSON body a webhook receives for one alert change."""
    tz = ZoneInfo(site.site.timezone)

    def t(v: datetime | None) -> str | None:
        return v.astimezone(tz).isoformat() if v else None

    return {
        "event": event,
        "site": {"id": site.id, "name": site.site.name},
        "alert": {
            "id": alert["id"],
            "key": alert["alert_key"],
            "kind": alert["kind"],
            "subject": alert["subject"],
            "severity": alert["severity"],
            "message": alert["message"],
            "detail": alert["detail"],
            "fired_at": t(alert["fired_at"]),
            "cleared_at": t(alert["cleared_at"]),
            "clear_message": alert["clear_message"],
        },
    }


def evaluate_site(conn: Conn, site: Site, now: datetime, stale_s: float = 10.0) -> Changes:
    """Evaluate ``site``'s rules at ``now``; store fired and cleared alerts and queue their
    webhook deliveries, in one transaction."""
    changes = Changes()
    with conn.transaction():
        store.lock_site(conn, site.id)
        opened = store.open_alerts(conn, site.id)
        conditions = [
            *occupancy_conditions(conn, site, now, stale_s, set(opened)),
            *entrance_condition(conn, site, now),
            *camera_conditions(conn, site, now),
        ]
        watched = {c.key for c in conditions}
        for c in conditions:
            current = opened.get(c.key)
            if c.active and current is None:
                row = store.fire(
                    conn, site.id, c.key, c.kind, c.subject, c.severity, c.message, c.detail, now
                )
                changes.fired.append(row)
                changes.queued += _queue(conn, site, "alert.fired", row, now)
            elif not c.active and current is not None:
                row = store.clear(conn, current["id"], c.message, now)
                changes.cleared.append(row)
                changes.queued += _queue(conn, site, "alert.cleared", row, now)
        for key, current in opened.items():
            still_watched = key in watched or _rule_kept(site, key)
            if not still_watched:
                row = store.clear(conn, current["id"], "the rule was removed from the config", now)
                changes.cleared.append(row)
                changes.queued += _queue(conn, site, "alert.cleared", row, now)
    for row in changes.fired:
        log.warning("alert fired site=%s key=%s: %s", site.id, row["alert_key"], row["message"])
    for row in changes.cleared:
        log.info(
            "alert cleared site=%s key=%s: %s", site.id, row["alert_key"], row["clear_message"]
        )
    return changes


def _rule_kept(site: Site, key: str) -> bool:
    """A camera never heard from has no condition this pass, but its rule may still be there."""
    kind, _, subject = key.partition(":")
    if kind.startswith("camera-"):
        return site.alerts.cameras is not None and subject in {c.id for c in site.cameras}
    return False


def _queue(conn: Conn, site: Site, event: str, row: dict[str, Any], now: datetime) -> int:
    body = payload(site, event, row)
    for hook in site.alerts.webhooks:
        store.enqueue(conn, site.id, hook.name, hook.url, event, row["id"], body, now)
    return len(site.alerts.webhooks)
