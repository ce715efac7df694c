"""The API endpoints the dashboard draws from, and the dashboard's pages, on a real database."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from dashboard_replay import heartbeats
from fastapi.testclient import TestClient
from synthetic import site_messages

import cloud.api.dashboard as dashboard
from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.routers.overview import entry_lines
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday, 09:00 in London
AT = "2026-11-20T10:30:00Z"


@pytest.fixture()
def client(database_url: str):  # type: ignore[no-untyped-def]
    messages = [
        *site_messages(SITE, T0, duration_s=3600, fps=1, walkers_per_minute=4, seed=5),
        *site_messages(SITE, T0 - timedelta(days=7), 6300, fps=1, walkers_per_minute=3, seed=6),
        *heartbeats(SITE, T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1)),
    ]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for i in range(0, len(messages), 5000):
            writer.write(messages[i : i + 5000])
        derive_all_dirty(conn, SITE)
        token = create_key(conn, "demo", "test")
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as c:
        yield c, {"X-API-Key": token}


def _ins(client: TestClient, key: dict[str, str], lo: str, hi: str) -> Counter[int]:
    """Entries over the entrance lines per site-local hour, from the (tested) footfall API."""
    rows = client.get(f"/v1/sites/demo/footfall?from={lo}&to={hi}&bucket=1h", headers=key).json()[
        "rows"
    ]
    lines = set(entry_lines(SITE))
    out: Counter[int] = Counter()
    for r in rows:
        if r["line_id"] in lines:
            out[datetime.fromisoformat(r["bucket"]).hour] += r["ins"]
    return out


def test_overview_compares_today_with_the_same_weekday_last_week(client) -> None:  # type: ignore[no-untyped-def]
    c, key = client
    assert entry_lines(SITE) == [
        "plaza-east-gate-line",
        "plaza-west-exit-line",
        "lobby-entrance-line",
    ]
    body = c.get(f"/v1/sites/demo/overview?at={AT}", headers=key).json()
    assert (body["day"], body["compare_day"]) == ("2026-11-20", "2026-11-13")
    today = _ins(c, key, "2026-11-20T00:00", "2026-11-20T10:30")
    before = _ins(c, key, "2026-11-13T00:00", "2026-11-14T00:00")
    same_time = _ins(c, key, "2026-11-13T00:00", "2026-11-13T10:30")
    assert body["entries"] == sum(today.values()) > 0
    assert body["compare_entries_whole_day"] == sum(before.values()) > 0
    assert body["compare_entries_same_time"] == sum(same_time.values())
    assert body["compare_entries_same_time"] < body["compare_entries_whole_day"]
    assert [h["entries"] for h in body["hourly"]] == [today[h] for h in range(24)]
    assert [h["compare_entries"] for h in body["hourly"]] == [before[h] for h in range(24)]
    assert body["change"] == pytest.approx(
        (body["entries"] - body["compare_entries_same_time"]) / body["compare_entries_same_time"]
    )
    bad = c.get("/v1/sites/demo/overview?at=teatime", headers=key)
    assert bad.status_code == 422 and "is not a date-time" in bad.json()["detail"]


def test_dwell_distribution_agrees_with_the_dwell_figures(client) -> None:  # type: ignore[no-untyped-def]
    c, key = client
    rng = "from=2026-11-20T08:00Z&to=2026-11-20T12:00Z"
    dist = c.get(f"/v1/sites/demo/dwell/distribution?{rng}", headers=key).json()
    stats = {
        r["zone_id"]: r for r in c.get(f"/v1/sites/demo/dwell?{rng}", headers=key).json()["rows"]
    }
    assert {z["zone_id"] for z in dist["zones"]} == set(stats)
    assert len(dist["zones"][0]["histogram"]) == len(dist["edges_s"]) + 1
    for z in dist["zones"]:
        assert z["visits"] == sum(z["histogram"]) == stats[z["zone_id"]]["visits"]
        q = z["quantiles_s"]
        assert q["p50"] == pytest.approx(stats[z["zone_id"]]["median_s"])
        assert q["p05"] <= q["p25"] <= q["p50"] <= q["p75"] <= q["p95"]


def test_camera_history_layout_and_plan(client) -> None:  # type: ignore[no-untyped-def]
    c, key = client
    rng = "from=2026-11-20T09:00Z&to=2026-11-20T10:00Z&bucket=15m"
    rows = c.get(f"/v1/sites/demo/cameras/history?{rng}", headers=key).json()["rows"]
    assert {r["camera_id"] for r in rows} == {cam.id for cam in SITE.cameras}
    # 30 s heartbeats from 09:00:30 to 10:00: 29 in the first quarter hour, then 30.
    assert sorted({r["heartbeats"] for r in rows}) == [29, 30]
    degraded = sum(r["degraded"] for r in rows)
    assert degraded == 41  # the last camera, 40 to 20 minutes before 10:00, both included
    assert all(r["offline"] == 0 and r["errors"] == 0 for r in rows)
    layout = c.get("/v1/sites/demo/layout", headers=key).json()
    assert [z["id"] for z in layout["zones"]] == [z.id for z in SITE.zones]
    assert layout["floors"][0]["plan"] is None and layout["timezone"] == "Europe/London"
    plan = c.get("/v1/sites/demo/floors/l0/plan", headers=key)
    assert plan.status_code == 404 and "has no plan image" in plan.json()["detail"]
    assert c.get("/v1/sites/demo/layout").status_code == 401


def test_dashboard_pages_hold_no_key_and_load_nothing_from_elsewhere(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c, key = client
    for page in dashboard.PAGES:
        r = c.get(f"/dashboard/demo/{page}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "/dashboard/static/vendor/echarts.min.js" in r.text
        assert key["X-API-Key"] not in r.text
    for path in dashboard.STATIC.glob("*.*"):
        assert "http://" not in path.read_text() and "https://" not in path.read_text(), path
    assert c.get("/dashboard/demo/static").status_code == 404
    assert c.get("/dashboard/static/vendor/echarts.min.js").status_code == 200
    assert c.get("/", follow_redirects=False).headers["location"] == "/dashboard/"
    monkeypatch.setattr(dashboard, "VENDOR_ASSET", dashboard.STATIC / "vendor" / "gone.js")
    r = c.get("/dashboard/demo/overview")
    assert r.status_code == 503 and "run `make vendor`" in r.text
    assert ZoneInfo(SITE.site.timezone)  # pages compute times in the site's zone


def _reveals_a_site(text: str) -> list[str]:
    """Which configured site's id or name ``text`` holds (as a word, so 'demo' in 'democracy'
    would not count)."""
    return [
        v
        for v in ("demo", SITE.site.name)
        if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)
    ]


def test_without_a_key_the_dashboard_reveals_no_site(client) -> None:  # type: ignore[no-untyped-def]
    c, key = client
    listing = c.get("/dashboard/sites.json")
    assert listing.status_code == 404 and not _reveals_a_site(listing.text)
    assert "sign in with your site id" in listing.json()["detail"]
    assert c.get("/dashboard/sites.json", headers=key).status_code == 404  # no listing at all
    for path in (
        "/dashboard/",
        "/dashboard/elsewhere/overview",
        "/dashboard/demo/nowhere",
        "/dashboard/NOT%20A%20SITE/overview",
        "/dashboard/Bad.Site",
    ):
        r = c.get(path)
        assert not _reveals_a_site(r.text), (path, _reveals_a_site(r.text))
    assert c.get("/dashboard/demo/nowhere").status_code == 404
    assert c.get("/dashboard/Bad.Site/overview").status_code == 404
    # A configured and an unconfigured site get the same shell, and neither holds a name: the
    # site's existence and name come from the API, for an accepted key.
    known = c.get("/dashboard/demo/overview")
    unknown = c.get("/dashboard/elsewhere/overview")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("demo", "elsewhere") == unknown.text
    assert SITE.site.name not in known.text
    assert c.get("/v1/sites/demo/layout", headers=key).json()["name"] == SITE.site.name


def test_dashboard_answers_carry_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    for path in (
        "/dashboard/",
        "/dashboard/demo/overview",
        "/dashboard/static/common.js",
        "/dashboard/static/vendor/echarts.min.js",
        "/dashboard/demo/nowhere",
        "/dashboard/sites.json",
    ):
        r = c.get(path)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-eval" not in csp and "default-src 'self'" in csp, path
    assert c.get("/", follow_redirects=False).headers["x-frame-options"] == "DENY"
    # no inline script anywhere, which the policy would block
    for path in dashboard.STATIC.glob("*.html"):
        for tag in re.findall(r"<script[^>]*>", path.read_text()):
            assert "src=" in tag, (path, tag)
