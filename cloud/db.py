"""The cloud's adapter around psycopg: connections and database checks.

Only this module (and the query modules built on it) talks to PostgreSQL.
"""

from __future__ import annotations

import psycopg

from footfall.errors import UserError


class DatabaseError(UserError, RuntimeError):
    """The database cannot be reached or lacks what the cloud needs."""


def connect(url: str, timeout_s: int = 10) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to ``url``; one clear sentence when the database is not there."""
    try:
        return psycopg.connect(url, connect_timeout=timeout_s)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"Cannot connect to the database at {url} ({reason}); start it with "
            "`footfall stack up` or pass the right URL with --database-url."
        ) from None


def timescaledb_version(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """The installed TimescaleDB extension version; DatabaseError when it is missing."""
    row = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    if row is None:
        raise DatabaseError(
            "The database has no TimescaleDB extension; run CREATE EXTENSION timescaledb "
            "(`footfall stack up` does it for the local stack)."
        )
    return str(row[0])
