"""Schema migrations on TimescaleDB: each runs once, and one numbered below a version the
database already has (two changes made side by side) still runs."""

from __future__ import annotations

import pytest

from cloud.db import connect
from cloud.migrate import available, current_version, migrate

pytestmark = pytest.mark.integration


def test_every_migration_runs_once_even_below_the_highest_applied(database_url: str) -> None:
    with connect(database_url) as conn:
        applied = migrate(conn)
        conn.commit()
        assert [m.version for m in applied] == [m.version for m in available()]
        assert migrate(conn) == []

        # A database that got 008 before 007 existed (held_record was made side by side).
        conn.execute("DROP TABLE held_record")
        conn.execute("DELETE FROM schema_version WHERE version = 7")
        conn.commit()
        assert current_version(conn) == available()[-1].version
        assert [m.version for m in migrate(conn)] == [7]
        conn.commit()
        row = conn.execute("SELECT to_regclass('held_record') IS NOT NULL").fetchone()
        assert row is not None and row[0] is True
