"""Live occupancy: computed once per site per tick and fanned out to every open stream.

A site's feed is a task that runs while anyone listens: each tick it asks the database once
(through :class:`cloud.api.database.Database`, so it never blocks the event loop) and wakes
every subscriber, so a thousand open dashboards cost one query a tick, and a stream holds no
connection between ticks. A tick the database cannot answer is skipped (subscribers keep the
last value and get an SSE comment as keep-alive); the feed stops when its last listener leaves.

``/occupancy/now`` asks the same question, so it shares the answer: a snapshot younger than a
tick is served from memory (its ``at`` says when it was computed), and concurrent requests that
find none share one query. However many clients poll, a site costs one query a tick.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cloud.api import queries
from cloud.api.coalesce import Coalesce
from cloud.api.database import Conn, Database, Unavailable
from footfall.site import Site

log = logging.getLogger("footfall.cloud.api")

KEEPALIVE_S = 15.0
"""A stream that got no event for this long gets an SSE comment (proxies close idle ones)."""


def occupancy_at(conn: Conn, site: Site, stale_s: float, at: datetime) -> dict[str, Any]:
    """People in each zone of ``site`` at ``at``: tracks seen within ``stale_s`` before it."""
    since = at - timedelta(seconds=stale_s)
    rows = {r["zone_id"]: r["occupancy"] for r in queries.occupancy_now(conn, site.id, since, at)}
    zones = {z.id: int(rows.get(z.id, 0)) for z in site.zones}
    return {"at": at.astimezone(ZoneInfo(site.site.timezone)).isoformat(), "zones": zones}


class _Feed:
    def __init__(self) -> None:
        self.listeners = 0
        self.seq = 0
        self.latest: dict[str, Any] | None = None
        self.changed = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None


class LiveOccupancy:
    """Per-site live occupancy; ``ticks`` counts the database queries it made."""

    def __init__(self, db: Database, stale_s: float, tick_s: float = 1.0) -> None:
        self.db = db
        self.stale_s = stale_s
        self.tick_s = tick_s
        self.ticks = 0
        self._feeds: dict[str, _Feed] = {}
        self._snapshots: dict[str, tuple[dict[str, Any], float]] = {}
        self._queries: Coalesce[dict[str, Any]] = Coalesce()

    async def now(self, site: Site, max_age_s: float | None = None) -> dict[str, Any]:
        """Occupancy of ``site`` now: a snapshot younger than ``max_age_s`` (default a tick),
        or one shared query."""
        snapshot = self._snapshots.get(site.id)
        max_age_s = self.tick_s if max_age_s is None else max_age_s
        if snapshot is not None and time.monotonic() - snapshot[1] < max_age_s:
            return snapshot[0]
        return await self._queries.run(site.id, lambda: self._query(site))

    async def _query(self, site: Site) -> dict[str, Any]:
        started = time.monotonic()
        payload = await self.db.run_live(occupancy_at, site, self.stale_s, datetime.now(UTC))
        self.ticks += 1
        self._snapshots[site.id] = (payload, started)
        return payload

    async def close(self) -> None:
        tasks = [f.task for f in self._feeds.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._feeds.clear()

    async def _run(self, site: Site, feed: _Feed) -> None:
        try:
            due = time.monotonic()
            while feed.listeners > 0:
                try:
                    # A snapshot from less than half a tick ago (a poller's) is this tick's.
                    payload = await self.now(site, self.tick_s / 2)
                except Unavailable as exc:
                    log.warning("live occupancy of %s skipped a tick: %s", site.id, exc)
                except Exception:
                    log.exception("live occupancy of %s failed a tick", site.id)
                else:
                    async with feed.changed:
                        feed.latest, feed.seq = payload, feed.seq + 1
                        feed.changed.notify_all()
                # Ticks on a fixed grid, so a busy event loop's late wake-ups do not add up;
                # a feed more than a tick behind starts a new grid instead of bursting.
                due += self.tick_s
                late = time.monotonic() - due
                if late > self.tick_s:
                    due += late
                await asyncio.sleep(max(0.0, due - time.monotonic()))
        finally:
            if self._feeds.get(site.id) is feed:
                del self._feeds[site.id]

    async def stream(
        self, site: Site, interval_s: float, events: int | None, lifetime_s: float
    ) -> AsyncIterator[dict[str, Any] | None]:
        """Occupancy payloads every ``interval_s`` (rounded to whole ticks; None: a keep-alive),
        until ``events`` were sent or ``lifetime_s`` passed."""
        feed = self._feeds.get(site.id)
        if feed is None:
            feed = self._feeds[site.id] = _Feed()
        feed.listeners += 1
        if feed.task is None:
            feed.task = asyncio.create_task(self._run(site, feed), name=f"live-{site.id}")
        try:
            deadline = time.monotonic() + lifetime_s
            every = max(1, round(interval_s / self.tick_s))
            seen, sent, last_sent = 0, 0, -every
            while events is None or sent < events:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    async with feed.changed:
                        await asyncio.wait_for(
                            feed.changed.wait_for(lambda seen=seen: feed.seq > seen),  # type: ignore[misc]
                            min(remaining, KEEPALIVE_S),
                        )
                except TimeoutError:
                    if deadline - time.monotonic() > 0:
                        yield None
                    continue
                seen = feed.seq
                if seen - last_sent >= every and feed.latest is not None:
                    last_sent = seen
                    sent += 1
                    yield feed.latest
        finally:
            feed.listeners -= 1
