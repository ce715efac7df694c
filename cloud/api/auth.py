"""API keys: random tokens, stored only as sha256 hashes, each scoped to one or more sites.

A key may expire (``expires_at``) and be revoked (``revoked_at``); either way it is refused at
once. The API caches keys (:class:`KeyCache`) so a request costs no query, and stays correct
without asking the database each time: an expiry is checked against the cached ``expires_at``,
and a revocation (:func:`revoke_key`) sends ``NOTIFY footfall_api_key`` in its transaction, on
which every API process (:class:`RevocationListener`) empties its cache. While a process is not
listening (its listening connection lost) it does not cache at all.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import psycopg

from cloud.api.coalesce import Coalesce

Conn = psycopg.Connection[tuple[object, ...]]

TOKEN_PREFIX = "ffk_"
CHANNEL: Final = "footfall_api_key"
"""PostgreSQL NOTIFY channel: a key was revoked (the payload is its id)."""
KEY_ID_CHARS: Final = 12
"""A key's public id: the first characters of its hash (what ``apikey list`` shows)."""

log = logging.getLogger("footfall.cloud.api")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_id(key_hash: str) -> str:
    return key_hash[:KEY_ID_CHARS]


def create_key(
    conn: Conn,
    site_id: str | Sequence[str],
    name: str,
    expires_at: datetime | None = None,
) -> str:
    """Store a new key for ``site_id`` (one id or several); returns the token (shown once,
    never stored)."""
    sites = sorted({site_id} if isinstance(site_id, str) else set(site_id))
    if not sites:
        raise ValueError("a key needs at least one site")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(token)
    with conn.transaction():
        conn.execute(
            "INSERT INTO api_key (key_hash, name, expires_at) VALUES (%s, %s, %s)",
            (digest, name, expires_at),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO api_key_site (key_hash, site_id) VALUES (%s, %s)",
                [(digest, s) for s in sites],
            )
    return token


@dataclass(frozen=True)
class KeyScope:
    """What a valid key may read, and until when."""

    sites: frozenset[str]
    expires_at: datetime | None

    def valid(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def key_scope(conn: Conn, token: str) -> KeyScope | None:
    """The sites of a token that is known, not revoked and not expired; else None."""
    rows = conn.execute(
        "SELECT s.site_id, k.expires_at FROM api_key k JOIN api_key_site s USING (key_hash) "
        "WHERE k.key_hash = %s AND k.revoked_at IS NULL "
        "AND (k.expires_at IS NULL OR k.expires_at > now())",
        (hash_token(token),),
    ).fetchall()
    if not rows:
        return None
    expires = rows[0][1]
    return KeyScope(
        frozenset(str(r[0]) for r in rows), expires if isinstance(expires, datetime) else None
    )


def key_sites(conn: Conn, token: str) -> list[str]:
    """The sites a valid token may read (sorted); empty for an unknown, revoked or expired one."""
    scope = key_scope(conn, token)
    return sorted(scope.sites) if scope else []


def key_site(conn: Conn, token: str) -> str | None:
    """The first site of a valid token, or None (keys of one site: its site)."""
    sites = key_sites(conn, token)
    return sites[0] if sites else None


@dataclass(frozen=True)
class StoredKey:
    """A key as ``footfall cloud apikey list`` shows it (never the token)."""

    id: str
    name: str
    sites: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def list_keys(conn: Conn, site_id: str | None = None) -> list[StoredKey]:
    """Every key (of ``site_id``, if given), oldest first."""
    rows = conn.execute(
        "SELECT k.key_hash, k.name, array_agg(s.site_id ORDER BY s.site_id), k.created_at, "
        "k.expires_at, k.revoked_at FROM api_key k JOIN api_key_site s USING (key_hash) "
        "GROUP BY k.key_hash HAVING %(site)s::text IS NULL OR %(site)s = ANY(array_agg(s.site_id)) "
        "ORDER BY k.created_at, k.key_hash",
        {"site": site_id},
    ).fetchall()
    return [
        StoredKey(key_id(str(h)), str(n), tuple(s), c, e, r)  # type: ignore[arg-type]
        for h, n, s, c, e, r in rows
    ]


class KeyNotFound(LookupError):
    """No key, or more than one, has that id."""


def revoke_key(conn: Conn, id_or_token: str) -> StoredKey:
    """Revoke the key with this id (or id prefix of 6+ characters, or the token itself), at
    once in every API process that listens; returns it. Revoking twice keeps the first time."""
    wanted = id_or_token.strip()
    digest = hash_token(wanted) if wanted.startswith(TOKEN_PREFIX) else None
    with conn.transaction():
        if digest is not None:
            rows = conn.execute(
                "SELECT key_hash FROM api_key WHERE key_hash = %s", (digest,)
            ).fetchall()
        elif len(wanted) >= 6 and all(c in "0123456789abcdef" for c in wanted):
            rows = conn.execute(
                "SELECT key_hash FROM api_key WHERE key_hash LIKE %s", (wanted + "%",)
            ).fetchall()
        else:
            rows = []
        if len(rows) != 1:
            raise KeyNotFound(
                f"{'more than one key has' if rows else 'no key has'} the id {wanted!r}"
            )
        found = str(rows[0][0])
        conn.execute(
            "UPDATE api_key SET revoked_at = coalesce(revoked_at, now()) WHERE key_hash = %s",
            (found,),
        )
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, key_id(found)))
    return next(k for k in list_keys(conn) if k.id == key_id(found))


class KeyCache:
    """Valid tokens' scopes for ``ttl_s`` seconds, so a request costs no key lookup query.

    Only hashes are kept. Concurrent requests with the same unknown-yet token share one lookup
    (twenty dashboard streams opening at once are one query). A cached key is refused from the
    moment it expires. :meth:`clear` (a revocation seen by :class:`RevocationListener`) empties
    the cache, and a lookup that was under way then is not cached. ``caching`` off (no listener
    connected): every request looks its key up.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.caching = True
        self._scopes: dict[str, tuple[KeyScope, float]] = {}
        self._generation = 0
        self._lookups: Coalesce[KeyScope | None] = Coalesce()

    def clear(self) -> None:
        self._generation += 1
        self._scopes = {}

    async def scope(
        self, token: str, lookup: Callable[[str], Awaitable[KeyScope | None]]
    ) -> KeyScope | None:
        """The scope of a valid ``token`` (None: unknown, revoked or expired), from the cache or
        one shared ``lookup``."""
        digest = hash_token(token)
        now = time.monotonic()
        hit = self._scopes.get(digest)
        if hit is not None and hit[1] > now and self.caching:
            if hit[0].valid(datetime.now(UTC)):
                return hit[0]
            self._scopes.pop(digest, None)
            return None
        generation = self._generation
        scope = await self._lookups.run(digest, lambda: lookup(token))
        if scope is not None and self.caching and generation == self._generation:
            self._put(digest, scope, now)
        return scope

    def _put(self, digest: str, scope: KeyScope, now: float) -> None:
        if len(self._scopes) >= self.max_entries:
            self._scopes = {k: v for k, v in self._scopes.items() if v[1] > now}
            if len(self._scopes) >= self.max_entries:
                self._scopes = {}
        self._scopes[digest] = (scope, now + self.ttl_s)


class RevocationListener:
    """``LISTEN footfall_api_key`` on its own connection, in a daemon thread: each notification
    empties ``cache``. Until it listens (and whenever its connection is lost) the cache is off,
    so a revocation is never missed; it reconnects every ``retry_s``."""

    def __init__(self, database_url: str, cache: KeyCache, retry_s: float = 2.0) -> None:
        self._url = database_url
        self._cache = cache
        self._retry_s = retry_s
        self._stop = threading.Event()
        self.listening = threading.Event()
        cache.caching = False
        self._thread = threading.Thread(target=self._run, name="apikey-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        warned = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._cache.clear()  # anything revoked while nobody listened
                    self._cache.caching = True
                    self.listening.set()
                    warned = False
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._cache.clear()
            except psycopg.Error as exc:
                if not warned:
                    log.warning(
                        "API key revocations: lost the database connection (%s); checking every "
                        "key against the database until it is back",
                        exc,
                    )
                    warned = True
            finally:
                self._cache.caching = False
                self.listening.clear()
            self._stop.wait(self._retry_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


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
