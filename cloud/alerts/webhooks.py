"""Webhook delivery from the outbox: HMAC-SHA256 signed POSTs, retried with backoff.

Each POST carries the alert change as JSON and these headers:

- ``X-Footfall-Event``: ``alert.fired`` or ``alert.cleared``;
- ``X-Footfall-Delivery``: the outbox row's id (the same on every retry: receivers de-duplicate
  by it, since a delivery whose answer was lost is sent again);
- ``X-Footfall-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Footfall-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the webhook's secret, of
  ``<timestamp>.<body>`` (verify it, and that the timestamp is recent, before trusting a POST).

A 2xx answer delivers the row. Anything else (refused connection, timeout, another status) is
retried after ``retry_base_s`` doubling each attempt up to ``retry_max_s``; a row still not
delivered ``give_up_after_h`` after it was queued is given up (kept, marked). Deliveries to one
webhook go in the order they were queued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from cloud.alerts import store
from footfall.errors import UserError
from footfall.site import Site
from footfall.site.alerts import Webhook

log = logging.getLogger("footfall.cloud.alerts")


class WebhookSecretMissing(UserError):
    """A webhook's secret environment variable is not set."""


@dataclass(frozen=True)
class Backoff:
    retry_base_s: float = 2.0
    retry_max_s: float = 600.0
    give_up_after_h: float = 72.0
    timeout_s: float = 5.0

    def delay_s(self, attempts: int) -> float:
        """Wait after the ``attempts``-th failed attempt (1, 2, …)."""
        return float(min(self.retry_max_s, self.retry_base_s * 2 ** max(0, attempts - 1)))


def secret(hook: Webhook) -> bytes:
    value = os.environ.get(hook.secret_env)
    if not value:
        raise WebhookSecretMissing(
            f"webhook {hook.name!r} signs with the secret in the environment variable "
            f"{hook.secret_env}, which is not set; set it (the receiver needs the same secret)"
        )
    return value.encode()


def check_secrets(sites: list[Site]) -> None:
    """Every webhook's secret is set (else one sentence naming the first missing one)."""
    for site in sites:
        for hook in site.alerts.webhooks:
            secret(hook)


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """The X-Footfall-Signature value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(key: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    try:
        expected = sign(key, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature)


def _post(client: httpx.Client, hook: Webhook, row: dict[str, Any], now: datetime) -> str | None:
    """POST one outbox row; None when delivered, else why not."""
    body = json.dumps(row["payload"], separators=(",", ":"), sort_keys=True).encode()
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "footfall-alerts/1",
        "X-Footfall-Event": row["event"],
        "X-Footfall-Delivery": str(row["id"]),
        "X-Footfall-Timestamp": str(stamp),
        "X-Footfall-Signature": sign(secret(hook), stamp, body),
    }
    try:
        answer = client.post(row["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}"


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def deliver_due(
    conn: store.Conn, sites: list[Site], now: datetime, backoff: Backoff | None = None
) -> Delivered:
    """Send every due outbox row of ``sites``' webhooks, each webhook's rows in order; a failed
    one is rescheduled and holds back that webhook's later rows until the next pass."""
    backoff = backoff or Backoff()
    done = Delivered()
    with httpx.Client(timeout=backoff.timeout_s, follow_redirects=False) as client:
        for site in sites:
            for hook in site.alerts.webhooks:
                while True:
                    with conn.transaction():
                        row = store.next_delivery(conn, site.id, hook.name)
                        if row is None or row["next_attempt_at"] > now:
                            break
                        error = _post(client, hook, row, now)
                        if error is None:
                            store.delivered(conn, row["id"], now)
                            done.sent += 1
                            log.info(
                                "webhook delivered site=%s webhook=%s delivery=%s event=%s",
                                site.id,
                                hook.name,
                                row["id"],
                                row["event"],
                            )
                            continue
                        attempts = row["attempts"] + 1
                        retry_at = now + timedelta(seconds=backoff.delay_s(attempts))
                        expired = now - row["created_at"] > timedelta(hours=backoff.give_up_after_h)
                        store.failed(conn, row["id"], error, retry_at, now if expired else None)
                        done.failed += 1
                        done.gave_up += int(expired)
                        log.warning(
                            "webhook %s site=%s delivery=%s attempt %d: %s; %s",
                            hook.name,
                            site.id,
                            row["id"],
                            attempts,
                            error,
                            "given up" if expired else f"retry at {retry_at:%H:%M:%S}",
                        )
                    break
    return done
