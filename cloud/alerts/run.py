"""The ``footfall cloud alerts`` worker: evaluate every site's rules, deliver the outbox, repeat.

One worker per deployment is enough; several are safe (each site is evaluated under an
advisory lock, outbox rows are taken with SKIP LOCKED).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.alerts.evaluate import evaluate_site
from cloud.alerts.store import Conn
from cloud.alerts.webhooks import Backoff, check_secrets, deliver_due
from cloud.db import connect
from cloud.migrate import migrate
from footfall.errors import UserError
from footfall.site import Site
from footfall.site.alerts import alert_problems

log = logging.getLogger("footfall.cloud.alerts")


class AlertSettings(BaseSettings):
    """How the alerts worker runs (env ``FOOTFALL_ALERTS_*``)."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_ALERTS_", frozen=True, extra="forbid")

    interval_s: float = 15.0
    """Seconds between passes (evaluate every site, then deliver what is due)."""
    occupancy_stale_s: float = 10.0
    """A person not seen for this long is no longer in a zone (as the API's live occupancy)."""
    retry_base_s: float = 2.0
    """First wait after a failed delivery; doubles with each attempt."""
    retry_max_s: float = 600.0
    """Longest wait between two attempts."""
    give_up_after_h: float = 72.0
    """A delivery still failing this long after it was queued is given up (kept, marked)."""
    timeout_s: float = 5.0
    """How long one POST may take."""

    def backoff(self) -> Backoff:
        return Backoff(self.retry_base_s, self.retry_max_s, self.give_up_after_h, self.timeout_s)


class AlertConfigError(UserError):
    """An alert rule names something its site does not have."""


def check_sites(sites: Sequence[Site]) -> None:
    """Alert rules that name nothing the site has, and missing webhook secrets, are refused."""
    for site in sites:
        problems = alert_problems(site.alerts, [z.id for z in site.zones])
        if problems:
            raise AlertConfigError(f"site {site.id!r}: {problems[0]}")
    check_secrets(list(sites))


def alert_pass(
    conn: Conn, sites: Sequence[Site], settings: AlertSettings, now: datetime | None = None
) -> dict[str, int]:
    """One pass at ``now`` (default: this clock): evaluate every site, then deliver."""
    at = now or datetime.now(UTC)
    fired = cleared = 0
    for site in sites:
        changes = evaluate_site(conn, site, at, settings.occupancy_stale_s)
        fired += len(changes.fired)
        cleared += len(changes.cleared)
    sent = deliver_due(conn, list(sites), at, settings.backoff())
    return {"fired": fired, "cleared": cleared, "sent": sent.sent, "failed": sent.failed}


def run_alerts(
    database_url: str,
    sites: Sequence[Site],
    settings: AlertSettings,
    stop: threading.Event,
    once: bool = False,
) -> None:
    """Passes every ``settings.interval_s`` until ``stop`` (or one with ``once``)."""
    check_sites(sites)
    with connect(database_url) as conn:
        migrate(conn)
        conn.commit()
        while not stop.is_set():
            result = alert_pass(conn, sites, settings)
            if once or any(result.values()):
                log.info(
                    "alerts pass: sites=%d fired=%d cleared=%d delivered=%d failed=%d",
                    len(sites),
                    result["fired"],
                    result["cleared"],
                    result["sent"],
                    result["failed"],
                )
            if once:
                return
            stop.wait(settings.interval_s)
