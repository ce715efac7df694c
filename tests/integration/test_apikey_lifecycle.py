"""API keys on the real database: listed, revoked and expired keys get 401 at once (although the
API caches keys for a minute), and a key scoped to several sites reads each of them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.cli import cloud
from cloud.migrate import migrate
from footfall.site import load_site

pytestmark = pytest.mark.integration

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "sites"
DEMO = load_site(CONFIGS / "demo.yaml")
MALL = load_site(CONFIGS / "two_floor_mall.yaml")
SITE_ARGS = ["--site-config", str(CONFIGS / "demo.yaml"), "--site-config", str(MALL.source_file)]


def _url(site: str) -> str:
    return f"/v1/sites/{site}/footfall?from=2026-11-20T09:00&to=2026-11-20T10:00&bucket=1h"


@pytest.fixture()
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    with TestClient(create_app(ApiSettings(database_url, [DEMO, MALL]))) as test_client:
        listener_up = time.monotonic() + 10
        while not test_client.app.state.footfall.keys.caching:  # type: ignore[attr-defined]
            assert time.monotonic() < listener_up, "the revocation listener did not connect"
            time.sleep(0.05)
        yield test_client


def _cli(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(cloud, ["apikey", *args, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    return result.output


def _status_within(client: TestClient, key: str, site: str, want: int, limit_s: float) -> float:
    """Seconds until a request with ``key`` is answered ``want`` (fails after ``limit_s``)."""
    start = time.monotonic()
    while True:
        got = client.get(_url(site), headers={"X-API-Key": key}).status_code
        waited = time.monotonic() - start
        if got == want:
            return waited
        assert waited < limit_s, f"still {got} after {waited:.1f} s, wanted {want}"
        time.sleep(0.02)


def test_a_revoked_key_gets_401_at_once(client: TestClient, database_url: str) -> None:
    token = _cli(database_url, "create", "--site", "demo", "--name", "till 3", *SITE_ARGS).strip()
    keep = _cli(database_url, "create", "--site", "demo", "--name", "keeps", *SITE_ARGS).strip()
    for key in (token, keep):
        assert client.get(_url("demo"), headers={"X-API-Key": key}).status_code == 200
    assert client.app.state.footfall.keys._scopes  # type: ignore[attr-defined]  # cached now

    listed = [json.loads(line) for line in _cli(database_url, "list", "--json").splitlines()]
    assert [(k["name"], k["state"], k["sites"]) for k in listed] == [
        ("till 3", "active", ["demo"]),
        ("keeps", "active", ["demo"]),
    ]
    said = _cli(database_url, "revoke", listed[0]["id"])
    assert said.startswith(f"revoked {listed[0]['id']} (till 3; sites demo) at ")

    # Well inside the cache's minute: the NOTIFY emptied it.
    _status_within(client, token, "demo", 401, limit_s=2.0)
    refused = client.get(_url("demo"), headers={"X-API-Key": token})
    assert "revoked or expired" in refused.json()["detail"]
    assert client.get(_url("demo"), headers={"X-API-Key": keep}).status_code == 200

    table = _cli(database_url, "list", "--site", "demo")
    assert "revoked" in table.splitlines()[1] and "active" in table.splitlines()[2]
    again = CliRunner().invoke(
        cloud, ["apikey", "revoke", "0123456789", "--database-url", database_url]
    )
    assert again.exit_code == 1 and "no key has the id '0123456789'" in again.output


def test_an_expired_key_gets_401_at_once(client: TestClient, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        soon = create_key(conn, "demo", "soon", datetime.now(UTC) + timedelta(seconds=2))
    ok = {"X-API-Key": soon}
    assert client.get(_url("demo"), headers=ok).status_code == 200  # and cached for a minute
    time.sleep(2.1)
    assert client.get(_url("demo"), headers=ok).status_code == 401

    later = _cli(database_url, "create", "--site", "demo", "--expires", "30d", *SITE_ARGS)
    assert client.get(_url("demo"), headers={"X-API-Key": later.strip()}).status_code == 200
    states = {
        k["name"]: (k["state"], k["expires_at"][:10])
        for k in map(json.loads, _cli(database_url, "list", "--json").splitlines())
    }
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    assert states["soon"][0] == "expired"
    assert states["default"] == ("active", in_30_days)
    past = CliRunner().invoke(
        cloud,
        ["apikey", "create", "--site", "demo", "--expires", "2020-01-01", "--database-url",
         database_url, *SITE_ARGS],
    )  # fmt: skip
    assert past.exit_code == 2 and "'2020-01-01' is in the past" in past.output


def test_a_key_of_several_sites_reads_each_of_them(client: TestClient, database_url: str) -> None:
    token = _cli(database_url, "create", "--site", "demo", "--site", MALL.id, *SITE_ARGS).strip()
    headers = {"X-API-Key": token}
    for site in ("demo", MALL.id):
        assert client.get(_url(site), headers=headers).status_code == 200
        # What the dashboard's sign-in asks with the site id and the key typed in.
        layout = client.get(f"/v1/sites/{site}/layout", headers=headers)
        assert layout.status_code == 200, layout.text
    with psycopg.connect(database_url) as conn:
        demo_only = create_key(conn, "demo", "one site")
    other = client.get(_url(MALL.id), headers={"X-API-Key": demo_only})
    assert other.status_code == 403
    assert other.json()["detail"] == f"this API key is for site 'demo', not '{MALL.id}'"
    (row,) = [
        json.loads(x)
        for x in _cli(database_url, "list", "--site", MALL.id, "--json").split("\n")
        if x
    ]
    assert row["sites"] == sorted(["demo", MALL.id])
