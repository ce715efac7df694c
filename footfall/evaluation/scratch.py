"""Scratch databases: a fresh database with TimescaleDB for one run, dropped afterwards.

The one helper for every harness that needs a database of its own: ``footfall simulate
--evaluate`` (:mod:`~footfall.evaluation.stitching_stack`), the end-to-end evaluation
(:mod:`~footfall.evaluation.end_to_end`) and the tests' database fixtures.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from cloud.db import connect


def server_url(url: str, database: str) -> str:
    """``url`` (any database on a server) pointed at ``database`` on the same server."""
    return f"{url.rpartition('/')[0]}/{database}"


def drop_database(url: str, name: str) -> None:
    """Drop database ``name`` on the server of ``url`` (closing its connections), if it exists."""
    with connect(server_url(url, "postgres")) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(url: str, prefix: str = "scratch", keep: bool = False) -> Iterator[str]:
    """A fresh database ``<prefix>_<random>`` with TimescaleDB on the server of ``url``; yields
    its URL. Dropped on leaving, after an error too, unless ``keep``."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with connect(server_url(url, "postgres")) as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = server_url(url, name)
    try:
        with connect(scratch) as conn:
            conn.autocommit = True
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        yield scratch
    finally:
        if not keep:
            drop_database(url, name)
