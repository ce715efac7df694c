"""The API's database access: blocking psycopg work off the event loop, bounded, never hanging.

Each query runs on one of ``pool_size`` worker threads, each holding one pooled connection
for the call; requests wait for a worker on the event loop (a semaphore), where waiting costs
nothing, instead of as blocked threads. Admission is bounded twice, so a saturated API answers
quickly instead of piling up work: at most ``max_waiting`` requests wait (the next is refused at
once), and none waits longer than ``wait_timeout_s``; both become :class:`Unavailable`, which
the app answers with 503 and ``Retry-After``. A database that is down or restarting is the same
503 (one sentence naming it), never a 500 and never a 30-second hang.

Live occupancy (one small query per site and tick, shared by every stream and poller) has a lane
of its own, one more connection and worker, so its ticks never queue behind the requests
(``run(..., live=True)``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

Conn = psycopg.Connection[tuple[object, ...]]
P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("footfall.cloud.api")

APPLICATION_NAME = "footfall-api"
"""How the API's connections name themselves to PostgreSQL (pg_stat_activity)."""


class Unavailable(Exception):
    """The API cannot serve this request now; retry after ``retry_after_s``."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    @property
    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True)
class DatabaseLimits:
    """How much database work the API takes on at once (see the module docstring)."""

    pool_size: int = 8
    """Connections, and the worker threads that use them."""
    max_waiting: int = 1024
    """Requests that may wait for a connection; the next one is answered 503 at once."""
    wait_timeout_s: float = 10.0
    """A request that waited this long for a connection is answered 503."""
    connect_timeout_s: float = 5.0
    """Opening a connection (the database down or restarting) gives up after this long."""
    statement_timeout_s: float = 30.0
    """PostgreSQL cancels a query running longer (a lock held elsewhere); the request gets 503."""

    def __post_init__(self) -> None:
        if self.pool_size < 1 or self.max_waiting < 0:
            raise ValueError(
                f"pool_size must be at least 1 and max_waiting at least 0, not "
                f"{self.pool_size} and {self.max_waiting}"
            )
        if min(self.wait_timeout_s, self.connect_timeout_s, self.statement_timeout_s) <= 0:
            raise ValueError("wait, connect and statement timeouts must be positive")


class Database:
    """``await db.run(fn, *args)`` runs ``fn(conn, *args)`` on a pooled connection."""

    def __init__(self, url: str, limits: DatabaseLimits) -> None:
        self.limits = limits
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=limits.pool_size + 1,  # + the live lane
            kwargs={
                "autocommit": True,
                "connect_timeout": math.ceil(limits.connect_timeout_s),
                "application_name": APPLICATION_NAME,
                "options": f"-c statement_timeout={int(limits.statement_timeout_s * 1000)}",
            },
            timeout=limits.connect_timeout_s,
            open=False,
        )
        self._executor = ThreadPoolExecutor(limits.pool_size, thread_name_prefix="api-db")
        self._slots = asyncio.Semaphore(limits.pool_size)
        self._live_executor = ThreadPoolExecutor(1, thread_name_prefix="api-db-live")
        self._live_slot = asyncio.Semaphore(1)
        self._waiting = 0
        self.refused = 0
        """Requests answered 503 because the API was saturated (for tests and benchmarks)."""

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._live_executor.shutdown(wait=True, cancel_futures=True)
        self.pool.close()

    async def run(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kw: P.kwargs) -> T:
        """``fn(conn, *args, **kw)`` on a worker thread; Unavailable when it cannot be."""
        limits = self.limits
        if self._slots.locked() and self._waiting >= limits.max_waiting:
            self.refused += 1
            raise Unavailable(
                f"the API is saturated ({self._waiting} requests waiting for the database); "
                "retry shortly",
            )
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), limits.wait_timeout_s)
        except TimeoutError:
            self.refused += 1
            raise Unavailable(
                f"no database connection became free within {limits.wait_timeout_s:g} s; "
                "retry shortly",
            ) from None
        finally:
            self._waiting -= 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, lambda: self._call(fn, *args, **kw))
        finally:
            self._slots.release()

    async def run_live(
        self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kw: P.kwargs
    ) -> T:
        """As :meth:`run`, in the live lane: one query at a time, never behind requests."""
        timeout = self.limits.wait_timeout_s
        try:
            await asyncio.wait_for(self._live_slot.acquire(), timeout)
        except TimeoutError:
            raise Unavailable("live occupancy is still being computed; retry shortly") from None
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._live_executor, lambda: self._call(fn, *args, **kw))
        future.add_done_callback(self._live_done)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise Unavailable(
                f"live occupancy took longer than {timeout:g} s; retry shortly"
            ) from None

    def _live_done(self, future: asyncio.Future[Any]) -> None:
        self._live_slot.release()
        if not future.cancelled():
            future.exception()  # retrieved even when nobody waits for it any more

    def _call(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kw: P.kwargs) -> T:
        try:
            with self.pool.connection() as conn:
                return fn(conn, *args, **kw)
        except PoolTimeout:
            raise Unavailable(
                "the database is not reachable; the API keeps retrying — check that "
                "PostgreSQL is running (footfall stack up)",
                retry_after_s=self.limits.connect_timeout_s,
            ) from None
        except psycopg.errors.QueryCanceled:
            raise Unavailable(
                f"the query ran past the statement timeout ({self.limits.statement_timeout_s:g} s)"
                "; the database is busy or a table is locked — retry later",
                retry_after_s=5.0,
            ) from None
        except psycopg.OperationalError as exc:
            # A connection the server closed (restart, terminate): the pool replaces it.
            log.warning("database error: %s", " ".join(str(exc).split()) or type(exc).__name__)
            raise Unavailable(
                "the database connection was lost; retry shortly",
            ) from None
