"""Versioned schema migrations: numbered SQL files under ``cloud/migrations``.

Each file ``NNN_name.sql`` runs once, in version order, and is recorded in the
``schema_version`` table; one the database has not recorded runs even when a higher version
has (two changes made side by side). A transaction-scoped advisory lock makes concurrent starts
(several ingest processes and the API at once) safe: the first applies, the others then find
nothing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from cloud.db import DatabaseError, timescaledb_version

_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_ID = 0x666F6F74  # "foot"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with this package, by version."""
    found = []
    for entry in resources.files("cloud.migrations").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The highest applied version (0 for an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(str(row[0])) if row else 0


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Apply the migrations this database lacks; returns those applied."""
    timescaledb_version(conn)
    conn.commit()
    applied: list[Migration] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        have = current_version(conn)
        known = available()
        if known and have > known[-1].version:
            raise DatabaseError(
                f"The database schema is at version {have}, newer than this program knows "
                f"({known[-1].version}); upgrade footfall before running it on this database."
            )
        # Every migration not yet recorded, not only those above the highest: one numbered
        # below a version a database already has (two changes made side by side) still runs.
        done = {int(str(r[0])) for r in conn.execute("SELECT version FROM schema_version")}
        for migration in known:
            if migration.version in done:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration)
    return applied
