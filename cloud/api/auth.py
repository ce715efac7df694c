"""API keys: random tokens, stored only as sha256 hashes, each scoped to one site."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable

import psycopg

from cloud.api.coalesce import Coalesce

Conn = psycopg.Connection[tuple[object, ...]]

TOKEN_PREFIX = "ffk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(conn: Conn, site_id: str, name: str) -> str:
    """Store a new key for ``site_id``; returns the token (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO api_key (key_hash, site_id, name) VALUES (%s, %s, %s)",
            (hash_token(token), site_id, name),
        )
    return token


def key_site(conn: Conn, token: str) -> str | None:
    """The site a token is scoped to, or None for an unknown token."""
    row = conn.execute(
        "SELECT site_id FROM api_key WHERE key_hash = %s", (hash_token(token),)
    ).fetchone()
    return str(row[0]) if row else None


def key_sites(conn: Conn, token: str) -> list[str]:
    """Every site a token may see (empty for an unknown token): the portfolio's sites."""
    site = key_site(conn, token)
    return [site] if site is not None else []


class KeyCache:
    """Known tokens' sites for ``ttl_s`` seconds, so a request costs no key lookup query.

    Only hashes are kept. Concurrent requests with the same unknown-yet token share one lookup
    (twenty dashboard streams opening at once are one query). A key deleted from the database
    stops working within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._sites: dict[str, tuple[str, float]] = {}
        self._lookups: Coalesce[str | None] = Coalesce()

    async def site(self, token: str, lookup: Callable[[str], Awaitable[str | None]]) -> str | None:
        """The site of ``token`` (None: unknown), from the cache or one shared ``lookup``."""
        digest = hash_token(token)
        now = time.monotonic()
        hit = self._sites.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        site = await self._lookups.run(digest, lambda: lookup(token))
        if site is not None:
            self._put(digest, site, now)
        return site

    def _put(self, digest: str, site_id: str, now: float) -> None:
        if len(self._sites) >= self.max_entries:
            self._sites = {k: v for k, v in self._sites.items() if v[1] > now}
            if len(self._sites) >= self.max_entries:
                self._sites.clear()
        self._sites[digest] = (site_id, now + self.ttl_s)


class FailedKeyLimiter:
    """At most ``per_minute`` failed keys per client address a minute; then 429 until it passes.

    A moving window of the ``limits`` library, in memory (one API process).
    """

    def __init__(self, per_minute: int = 30) -> None:
        from limits import RateLimitItemPerMinute
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.item = RateLimitItemPerMinute(per_minute)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None when it may now."""
        if self._limiter.test(self.item, client):
            return None
        reset = self._limiter.get_window_stats(self.item, client).reset_time
        return max(1.0, reset - time.time())

    def failed(self, client: str) -> None:
        self._limiter.hit(self.item, client)
