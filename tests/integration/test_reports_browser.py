"""Staff, groups, queues and the balanced site occupancy through the real stack, in Chromium.

Thirty simulated minutes of the two-floor mall (the ``smoke`` scenario, stamped to end a
minute ago) go through the real ingest writer, analytics and stitching pass into TimescaleDB;
the API serves them. The report endpoints must answer with data consistent with the stored
rows, and the "Queues and groups" page must draw every chart with data at laptop and wall size
with no console error (screenshots: ``dashboard-queues-{laptop,wall}.png``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from dashboard_replay import free_port
from test_dashboard_browser import (
    ALL_CHARTS_READY,
    CHROMIUM,
    CHROMIUM_FLAGS,
    SIZES,
    Console,
    _need,
    screenshot_dir,
)

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.dashboard import missing_asset_message
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.reports import queues as queues_
from cloud.reports.staff_store import staff_pass
from cloud.reports.types import TrackVisit
from cloud.stitch.stitcher import StitchSettings
from cloud.stitch.store import stitch_pass
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE = load_site(REPO / "configs" / "sites" / "two_floor_mall.yaml")


@pytest.fixture(scope="module")
def served(module_database_url: str) -> Iterator[dict[str, Any]]:
    import uvicorn

    sc = with_overrides(scenario("smoke"), duration_s=1800.0)
    start = datetime.now(UTC) - timedelta(seconds=sc.duration_s + 60)
    sim = Simulation(SITE, sc, seed=3, with_truth=False, start=start)
    with psycopg.connect(module_database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, {SITE.id: SITE.counting.heatmap_cell_m})
        for chunk in sim.chunks(60.0):
            writer.write(chunk)
        derive_all_dirty(conn, SITE)
        far = datetime.now(UTC) + timedelta(hours=1)
        stitch_pass(conn, SITE, StitchSettings(mode="combined"), now=far, since=start)
        conn.commit()
        key = create_key(conn, SITE.id, "reports browser test")
    port = free_port()
    api = uvicorn.Server(
        uvicorn.Config(
            create_app(ApiSettings(module_database_url, [SITE])),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=api.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not api.started:
        assert time.monotonic() < deadline, "the API did not start within 30 s"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "key": key, "db": module_database_url}
    api.should_exit = True
    thread.join(timeout=10)


def _get(served: dict[str, Any], path: str, **params: str) -> Any:
    answer = httpx.get(
        f"{served['base']}/v1/sites/{SITE.id}/{path}",
        params=params,
        headers={"X-API-Key": served["key"]},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_report_endpoints_answer_from_the_stored_tracks(served: dict[str, Any]) -> None:
    staff = _get(served, "staff")
    assert staff["unique_visitors_with_staff"] > 0
    assert staff["unique_visitors_staff_excluded"] <= staff["unique_visitors_with_staff"]
    assert staff["entries_staff_excluded"] <= staff["entries_with_staff"]
    groups = _get(served, "groups", bucket="5m")
    people = sum(r["entries_people"] for r in groups["rows"])
    parties = sum(r["entries_parties"] for r in groups["rows"])
    assert 0 < parties <= people
    assert people <= staff["entries_staff_excluded"]
    queues = _get(served, "queues", bucket="5m")
    assert queues["zones"] == ["l0-checkout"]
    waits = sum(r["waits"] for r in queues["rows"])
    # per local track, by the same rule: chaining tracks only joins waits, staff only removes
    # them, so the API's waits are at most these, and each lies within their extremes
    with psycopg.connect(served["db"]) as conn:
        rows: list[Any] = conn.execute(
            "SELECT camera_id, track_id, zone_id, enter_at, exit_at FROM zone_visit "
            "WHERE site_id = %s AND zone_id = 'l0-checkout'",
            (SITE.id,),
        ).fetchall()
    reference = queues_.waits(SITE, [TrackVisit(*r) for r in rows])
    assert 0 < waits <= len(reference)
    shortest = min(w.wait_s for w in reference)
    longest = max(w.wait_s for w in reference) * 2
    for r in queues["rows"]:
        assert r["mean_s"] is None or shortest <= r["mean_s"] <= r["p90_s"] <= longest
    assert [q["zone_id"] for q in queues["live"]] == ["l0-checkout"]
    day = _get(served, "occupancy/site")
    assert day["minutes"]
    assert all(m["balanced"] >= max(m["seen"], 0) for m in day["minutes"])
    bad = httpx.get(
        f"{served['base']}/v1/sites/{SITE.id}/occupancy/site",
        params={"day": "yesterday"},
        headers={"X-API-Key": served["key"]},
    )
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]


@pytest.mark.parametrize("size", list(SIZES))
def test_the_queues_page_draws_data_without_console_errors(
    served: dict[str, Any], size: str
) -> None:
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    _need(missing_asset_message() is None, str(missing_asset_message()))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is missing; run make venv")
    width, height, query = SIZES[size]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        console = Console(page)
        query += ("&" if query else "?") + "range=1h"
        page.goto(f"{served['base']}/dashboard/{SITE.id}/queues{query}#key={served['key']}")
        page.wait_for_function(ALL_CHARTS_READY, timeout=30000)
        charts = page.eval_on_selector_all(
            ".chart", "cs => cs.map(c => [c.id, Number(c.dataset.points)])"
        )
        assert len(charts) == 4
        empty = [c for c, points in charts if points <= 0]
        assert not empty, f"charts without data: {empty}"
        assert page.query_selector_all("#queue-live tbody tr")
        assert page.is_hidden("#problem"), page.inner_text("#problem")
        assert "people entered" in page.inner_text("#summary")
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshot_dir() / f"dashboard-queues-{size}.png"), full_page=True)
        browser.close()
    assert not console.errors, console.errors


def test_staff_tracks_are_left_out_of_visitor_figures_unless_asked(
    served: dict[str, Any],
) -> None:
    with psycopg.connect(served["db"]) as conn:
        assert staff_pass(conn, SITE) >= 0  # the stitch service's pass runs on these tracks
        conn.execute("DELETE FROM staff_track WHERE site_id = %s", (SITE.id,))
        row: Any = conn.execute(
            "SELECT c.camera_id, c.track_id, t.first_at FROM line_crossing c "
            "JOIN track t USING (site_id, camera_id, track_id) "
            "WHERE c.site_id = %s AND c.direction = 1 AND EXISTS (SELECT 1 FROM zone_visit z "
            "WHERE z.site_id = c.site_id AND z.camera_id = c.camera_id "
            "AND z.track_id = c.track_id) LIMIT 1",
            (SITE.id,),
        ).fetchone()
        camera, track, first_at = row
        ins: Any = conn.execute(
            "SELECT count(*) FROM line_crossing WHERE site_id = %s AND camera_id = %s "
            "AND track_id = %s AND direction = 1",
            (SITE.id, camera, track),
        ).fetchone()
        visits: Any = conn.execute(
            "SELECT count(*) FROM zone_visit WHERE site_id = %s AND camera_id = %s "
            "AND track_id = %s",
            (SITE.id, camera, track),
        ).fetchone()

    def figures(staff: str) -> tuple[int, int, int]:
        f = _get(served, "footfall", bucket="1d", staff=staff)
        d = _get(served, "dwell", staff=staff)
        v = _get(served, "visitors/summary", staff=staff)
        return (
            sum(r["ins"] for r in f["rows"]),
            sum(r["visits"] for r in d["rows"]),
            v["unique_visitors"] + v["held_back_visitors"],
        )

    before = figures("exclude")
    assert figures("include") == before  # no staff recorded yet
    with psycopg.connect(served["db"]) as conn:
        conn.execute(
            "INSERT INTO staff_track (site_id, camera_id, track_id, started_at, rule) "
            "VALUES (%s, %s, %s, %s, 'stay')",
            (SITE.id, camera, track, first_at),
        )
    try:
        entries, zone_visits, visitors = figures("exclude")
        assert entries == before[0] - ins[0]
        assert zone_visits == before[1] - visits[0]
        assert visitors <= before[2]
        assert figures("include") == before
        assert _get(served, "staff")["staff_tracks"] >= 1
    finally:
        with psycopg.connect(served["db"]) as conn:
            conn.execute("DELETE FROM staff_track WHERE site_id = %s", (SITE.id,))
