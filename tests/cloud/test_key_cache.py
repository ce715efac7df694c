"""The API's key cache: one lookup per key, refusal at the key's expiry, emptied by a
revocation (also one that happens during a lookup), and no caching while nobody listens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cloud.api.auth import KeyCache, KeyScope


def _lookups(scope: KeyScope | None) -> tuple[list[str], object]:
    calls: list[str] = []

    async def lookup(token: str) -> KeyScope | None:
        calls.append(token)
        return scope

    return calls, lookup


def test_a_valid_key_is_looked_up_once() -> None:
    cache = KeyCache(ttl_s=60)
    calls, lookup = _lookups(KeyScope(frozenset({"a", "b"}), None))
    for _ in range(3):
        scope = asyncio.run(cache.scope("ffk_x", lookup))  # type: ignore[arg-type]
        assert scope is not None and scope.sites == {"a", "b"}
    assert calls == ["ffk_x"]


def test_a_cached_key_is_refused_from_its_expiry() -> None:
    cache = KeyCache(ttl_s=60)
    expiry = datetime.now(UTC) + timedelta(milliseconds=50)
    calls, lookup = _lookups(KeyScope(frozenset({"a"}), expiry))
    assert asyncio.run(cache.scope("ffk_x", lookup)) is not None  # type: ignore[arg-type]
    while datetime.now(UTC) < expiry:
        pass
    assert asyncio.run(cache.scope("ffk_x", lookup)) is None  # type: ignore[arg-type]
    assert len(calls) == 1


def test_clear_forgets_keys_and_a_lookup_under_way_is_not_cached() -> None:
    cache = KeyCache(ttl_s=60)
    calls: list[str] = []

    async def revoked_meanwhile(token: str) -> KeyScope | None:
        calls.append(token)
        cache.clear()  # a revocation arrives while this lookup runs
        return KeyScope(frozenset({"a"}), None)

    assert asyncio.run(cache.scope("ffk_x", revoked_meanwhile)) is not None
    assert asyncio.run(cache.scope("ffk_x", revoked_meanwhile)) is not None
    assert len(calls) == 2  # the first answer was not kept


def test_without_a_listener_every_request_looks_up() -> None:
    cache = KeyCache(ttl_s=60)
    cache.caching = False
    calls, lookup = _lookups(KeyScope(frozenset({"a"}), None))
    for _ in range(3):
        asyncio.run(cache.scope("ffk_x", lookup))  # type: ignore[arg-type]
    assert len(calls) == 3
