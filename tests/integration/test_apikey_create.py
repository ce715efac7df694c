"""``footfall cloud apikey create`` for a configured site stores a working key."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from cloud.api.auth import key_site
from cloud.cli import cloud

pytestmark = pytest.mark.integration

MALL = Path(__file__).resolve().parents[2] / "configs" / "sites" / "two_floor_mall.yaml"


def test_a_key_for_a_configured_site_is_created(database_url: str) -> None:
    runner = CliRunner()
    args = ["apikey", "create", "--database-url", database_url, "--site-config", str(MALL)]
    site_id = "riverside-mall"
    result = runner.invoke(cloud, [*args, "--site", site_id])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with psycopg.connect(database_url) as conn:
        assert key_site(conn, token) == site_id
        refused = runner.invoke(cloud, [*args, "--site", "demo"])
        assert refused.exit_code == 1 and "is not a configured site" in refused.output
        row = conn.execute("SELECT count(*) FROM api_key").fetchone()
        assert row is not None and row[0] == 1
