"""Concurrent callers asking the same question share one answer (one query, not one each)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalesce(Generic[T]):
    """``await shared.run(key, ask)``: the first caller for ``key`` runs ``ask()``; callers that
    come while it runs await the same result (or exception) instead of asking again."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, ask: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await ask()
        except asyncio.CancelledError:
            future.cancel()  # the waiters' own request goes on failing, not hanging
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._pending[key]
        future.set_result(value)
        return value
