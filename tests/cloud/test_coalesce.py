"""Callers asking the same question at once share one answer (key lookups, live occupancy)."""

from __future__ import annotations

import asyncio

import pytest

from cloud.api.coalesce import Coalesce


def test_concurrent_callers_share_one_ask_and_later_ones_ask_again() -> None:
    asked: list[str] = []

    async def ask(key: str) -> str:
        asked.append(key)
        await asyncio.sleep(0.01)
        return key.upper()

    async def main() -> tuple[list[str], str]:
        shared: Coalesce[str] = Coalesce()
        together = await asyncio.gather(*(shared.run("a", lambda: ask("a")) for _ in range(20)))
        return together, await shared.run("a", lambda: ask("a"))

    together, later = asyncio.run(main())
    assert together == ["A"] * 20 and later == "A"
    assert asked == ["a", "a"]


def test_an_error_reaches_every_waiter() -> None:
    async def fail() -> str:
        await asyncio.sleep(0.01)
        raise RuntimeError("database away")

    async def main() -> list[object]:
        shared: Coalesce[str] = Coalesce()
        return await asyncio.gather(
            *(shared.run("k", fail) for _ in range(3)), return_exceptions=True
        )

    errors = asyncio.run(main())
    assert [str(e) for e in errors] == ["database away"] * 3


def test_a_cancelled_ask_does_not_leave_waiters_hanging() -> None:
    async def main() -> None:
        shared: Coalesce[str] = Coalesce()
        first = asyncio.create_task(shared.run("k", lambda: asyncio.sleep(10, "x")))
        await asyncio.sleep(0)
        second = asyncio.create_task(shared.run("k", lambda: asyncio.sleep(10, "y")))
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(second, 1)

    asyncio.run(main())
