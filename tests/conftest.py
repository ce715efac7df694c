"""Shared fixtures. Integration fixtures start the real local stack (TimescaleDB + Tansu)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from footfall.stack import StackProfile, profile_for, stack_down, stack_up

REPO_ROOT = Path(__file__).resolve().parents[1]
SUPPORT = Path(__file__).resolve().parent / "support"
"""Helpers for tests only, never shipped in the package (synthetic walkers, Grafana's macros):
importable from every test as top-level modules (``from synthetic import site_messages``)."""
sys.path.insert(0, str(SUPPORT))
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def local_stack() -> Iterator[StackProfile]:
    """A test-profile stack (memory broker) on free loopback ports under .run/pytest.

    ``FOOTFALL_TEST_STACK_DIR`` moves it, so two pytest runs at once do not share a stack.

    Anything a killed earlier run left behind in that folder is stopped first; the stack is
    stopped again at the end of the session (its PostgreSQL data stays, so the next start skips
    initdb).
    """
    root = Path(os.environ.get("FOOTFALL_TEST_STACK_DIR", REPO_ROOT / ".run" / "pytest"))
    profile = profile_for(
        "test",
        root=root,
        pg_port=free_port(),
        broker_port=free_port(),
        s3_port=free_port(),
    )
    stack_down(profile)
    stack_up(profile, timeout_s=120)
    yield profile
    stack_down(profile)


@pytest.fixture()
def database_url(local_stack: StackProfile) -> Iterator[str]:
    """A fresh database with the TimescaleDB extension, dropped after the test."""
    from footfall.evaluation.scratch import scratch_database

    with scratch_database(local_stack.database_url, "t") as url:
        yield url


@pytest.fixture()
def make_database(local_stack: StackProfile) -> Iterator[Callable[[], str]]:
    """Makes fresh databases (several per test), all dropped after the test."""
    from footfall.evaluation.scratch import scratch_database

    with ExitStack() as made:
        yield lambda: made.enter_context(scratch_database(local_stack.database_url, "t"))


@pytest.fixture(scope="module")
def module_database_url(local_stack: StackProfile) -> Iterator[str]:
    """A fresh database shared by the tests of one module, dropped after them."""
    from footfall.evaluation.scratch import scratch_database

    with scratch_database(local_stack.database_url, "m") as url:
        yield url


@pytest.fixture()
def bootstrap_servers(local_stack: StackProfile) -> str:
    return local_stack.bootstrap_servers


def pytest_report_header() -> list[str]:
    return [
        f"shared data: {SHARED_DATA} ({'present' if SHARED_DATA.is_dir() else 'absent'})",
        f"FOOTFALL_RUN_DIR={os.environ.get('FOOTFALL_RUN_DIR', '.run')}",
    ]
