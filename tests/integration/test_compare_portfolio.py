"""KPIs against last week and last year, and the portfolio over the sites a key may see, on a
real database filled through the ingest writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from retail_site import STORE, retail_site
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.routers.overview import entry_lines
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.site import Site

pytestmark = pytest.mark.integration

SITE = retail_site()
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday 09:00 in London
RANGE = "from=2026-11-20T09:00&to=2026-11-20T11:00"


def _other_site() -> Site:
    data = SITE.model_dump(mode="json")
    data["site"] = {**data["site"], "id": "uptown", "name": "Uptown (second site)"}
    return Site.model_validate(data)


@pytest.fixture(scope="module")
def client(module_database_url: str):  # type: ignore[no-untyped-def]
    url = module_database_url
    other = _other_site()
    periods = [
        (SITE, site_messages(SITE, T0, 2 * 3600, fps=1, walkers_per_minute=4, seed=1)),
        (
            SITE,
            site_messages(SITE, T0 - timedelta(days=7), 7200, fps=1, walkers_per_minute=2, seed=2),
        ),
        (
            SITE,
            site_messages(
                SITE, T0 - timedelta(days=364), 7200, fps=1, walkers_per_minute=6, seed=3
            ),
        ),
        (other, site_messages(other, T0, 3600, fps=1, walkers_per_minute=2, seed=4)),
    ]
    with psycopg.connect(url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for site, messages in periods:  # derived period by period (minutes between are empty)
            for i in range(0, len(messages), 5000):
                writer.write(messages[i : i + 5000])
            derive_all_dirty(conn, site)
        keys = {s: create_key(conn, s, "test") for s in (SITE.id, other.id)}
        keys["both"] = create_key(conn, [SITE.id, other.id], "portfolio of two")
    with TestClient(create_app(ApiSettings(url, [SITE, other]))) as c:
        yield c, keys


def _entries(c: TestClient, key: str, lo: datetime, hi: datetime) -> int:
    rows = c.get(
        f"/v1/sites/{SITE.id}/footfall",
        params={"from": lo.isoformat(), "to": hi.isoformat(), "bucket": "1h"},
        headers={"X-API-Key": key},
    ).json()["rows"]
    lines = set(entry_lines(SITE))
    return sum(r["ins"] for r in rows if r["line_id"] in lines)


def test_any_kpi_against_the_same_range_last_week_and_last_year(client: Any) -> None:
    c, keys = client
    key = {"X-API-Key": keys[SITE.id]}
    sold = {"rows": [{"store": STORE, "start": "2026-11-20T09:00", "transactions": 12}]}
    assert c.post(f"/v1/sites/{SITE.id}/transactions", json=sold, headers=key).is_success
    body = c.get(f"/v1/sites/{SITE.id}/compare?{RANGE}", headers=key).json()
    got = {k["kpi"]: k for k in body["kpis"]}
    assert set(got) == {
        "entries",
        "exits",
        "unique_visitors",
        "zone_visits",
        "dwell_mean_s",
        "occupancy_peak",
        "transactions",
        "conversion",
    }
    lo, hi = T0, T0 + timedelta(hours=2)
    entries = got["entries"]
    assert entries["value"] == _entries(c, keys[SITE.id], lo, hi) > 0
    week = _entries(c, keys[SITE.id], lo - timedelta(days=7), hi - timedelta(days=7))
    year = _entries(c, keys[SITE.id], lo - timedelta(days=364), hi - timedelta(days=364))
    assert entries["last_week"]["value"] == week > 0
    assert entries["last_year"]["value"] == year > week  # three times the walkers
    assert entries["last_week"]["change"] == pytest.approx(entries["value"] / week - 1)
    assert entries["last_year"]["from"].startswith("2025-11-21T09:00")  # 52 weeks: a Friday
    conv = c.get(f"/v1/sites/{SITE.id}/conversion?{RANGE}&store={STORE}", headers=key).json()
    assert got["transactions"]["value"] == 12 and got["transactions"]["last_week"]["value"] == 0
    assert got["conversion"]["value"] == pytest.approx(conv["stores"][0]["conversion"])
    assert got["conversion"]["last_week"]["change"] is None  # no transactions then
    one = c.get(
        f"/v1/sites/{SITE.id}/compare?{RANGE}&kpi=zone_visits&zone={STORE}", headers=key
    ).json()
    assert [k["kpi"] for k in one["kpis"]] == ["zone_visits"] and one["zone"] == STORE
    assert 0 < one["kpis"][0]["value"] < got["zone_visits"]["value"]
    bad = c.get(f"/v1/sites/{SITE.id}/compare?kpi=footfall", headers=key)
    assert (
        bad.status_code == 422 and "kpi 'footfall' is unknown; use one of" in bad.json()["detail"]
    )


def test_the_portfolio_shows_the_sites_of_the_key(client: Any) -> None:
    c, keys = client
    r = c.get("/v1/portfolio?day=2026-11-20", headers={"X-API-Key": keys[SITE.id]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["id"] for s in body["sites"]] == [SITE.id]  # a key scoped to one site sees one
    (row,) = body["sites"]
    day_lo = datetime(2026, 11, 20, tzinfo=UTC)
    assert row["entries"] == _entries(c, keys[SITE.id], day_lo, day_lo + timedelta(days=1)) > 0
    assert row["entries_last_week"] > 0 and row["entries_last_year"] > row["entries_last_week"]
    assert body["totals"]["entries"] == row["entries"]
    assert c.get("/v1/portfolio").status_code == 401
    assert c.get("/v1/portfolio", headers={"X-API-Key": "ffk_nope"}).status_code == 401
    other = c.get("/v1/portfolio?day=2026-11-20", headers={"X-API-Key": keys["uptown"]}).json()
    assert [s["name"] for s in other["sites"]] == ["Uptown (second site)"]
    both = c.get("/v1/portfolio?day=2026-11-20", headers={"X-API-Key": keys["both"]}).json()
    assert [s["id"] for s in both["sites"]] == [SITE.id, "uptown"]  # by name
    assert both["totals"]["entries"] == row["entries"] + other["sites"][0]["entries"]
