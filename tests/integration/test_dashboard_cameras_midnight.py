"""The cameras page's "Last 3 hours" when the 3 hours span the site's midnight (issue 19: its
time axis spanned two days).

The browser's clock is fixed at 01:30 site time (Europe/London) and its own time zone is
another (America/New_York, whose midnight falls elsewhere): the chart's axis must run from
22:30 the day before to 01:30, every point drawn must lie in it, each camera's 5-minute buckets
must all be there on both sides of midnight, and the axis must say where the day changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import psycopg
import pytest
from dashboard_replay import free_port, heartbeats
from test_dashboard_browser import CHROMIUM, CHROMIUM_FLAGS, Console, _need

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.dashboard import missing_asset_message
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE = load_site(REPO / "configs" / "sites" / "demo.yaml")
TZ = ZoneInfo(SITE.site.timezone)
NOW = datetime(2026, 11, 21, 1, 30, 40, tzinfo=TZ)  # 01:30:40 site time, inside a bucket
BUCKET_S = 300

CHART = """(id) => {
  const c = echarts.getInstanceByDom(document.getElementById(id));
  const axis = c.getModel().getComponent('xAxis', 0).axis;
  const labels = axis.getViewLabels().map((l) => [l.tickValue, l.formattedLabel]);
  const points = c.getOption().series.filter((s) => s.type === 'line' && s.lineStyle.width === 2)
    .map((s) => [s.name, s.data.filter((d) => d[1] != null).map((d) => new Date(d[0]).getTime())]);
  return { extent: axis.scale.getExtent(), labels, points };
}"""


@pytest.fixture()
def served(database_url: str) -> Iterator[dict[str, Any]]:
    """The API over a day of heartbeats up to NOW (from 12:00 the day before)."""
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    _need(missing_asset_message() is None, str(missing_asset_message()))
    import uvicorn

    now = NOW.astimezone(UTC)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, {SITE.id: SITE.counting.heatmap_cell_m}).write(
            heartbeats(SITE, now - timedelta(hours=13, minutes=30), now, now)
        )
        key = create_key(conn, SITE.id, "midnight test")
    port = free_port()
    api = uvicorn.Server(
        uvicorn.Config(
            create_app(ApiSettings(database_url, [SITE])),
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
    yield {"base": f"http://127.0.0.1:{port}", "key": key}
    api.should_exit = True
    thread.join(timeout=10)


def _ms(local: str) -> int:
    """A naive site-local time as the page sends it, in ms."""
    return int(datetime.fromisoformat(local).replace(tzinfo=TZ).timestamp() * 1000)


def _asked(urls: list[str]) -> tuple[str, str]:
    """The from and to of the last camera history the page asked for."""
    query = parse_qs(urlparse([u for u in urls if "/cameras/history?" in u][-1]).query)
    return query["from"][0], query["to"][0]


def test_last_3_hours_across_midnight(served: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    ready = "() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.ready === '1')"
    base = f"{served['base']}/dashboard/{SITE.id}/cameras"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, timezone_id="America/New_York"
        )
        page = context.new_page()
        console = Console(page)
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.clock.install(time=NOW)  # the page's clock starts at NOW and runs on
        page.clock.resume()
        page.goto(f"{base}?range=3h#key={served['key']}")
        page.wait_for_function(ready, timeout=20000)
        charts = {c: page.evaluate(CHART, c) for c in ("camera-fps", "camera-latency")}
        summary = page.inner_text("#summary")
        asked = _asked(urls)
        # A range without data (after NOW) keeps its own axis too.
        page.goto(
            f"{base}?range=custom&from=2026-11-21T05:00&to=2026-11-21T06:00#key={served['key']}"
        )
        page.wait_for_function(ready, timeout=20000)
        empty = page.evaluate(CHART, "camera-fps")
        browser.close()
    assert not console.errors, console.errors
    assert "last 3 hours" in summary

    start, end = _ms(asked[0]), _ms(asked[1])
    assert 0 <= start - (NOW - timedelta(hours=3)).timestamp() * 1000 < 60_000  # clock runs on
    assert end - start == 3 * 3600 * 1000
    first = start // (BUCKET_S * 1000) * BUCKET_S * 1000
    buckets = list(range(first, end, BUCKET_S * 1000))
    assert len(buckets) == 37  # 22:30 .. 01:30, both sides of midnight
    for name, chart in charts.items():
        # The axis is the range asked for (from its first bucket), not the data's span (the
        # latency chart's bars widen it by half a bar each side).
        lo, hi = chart["extent"]
        if name == "camera-fps":
            assert [lo, hi] == [first, end], name
        else:
            assert 0 <= first - lo < BUCKET_S * 500 and 0 <= hi - end < BUCKET_S * 500, name
        assert sorted(n for n, _ in chart["points"]) == sorted(c.id for c in SITE.cameras)
        for camera, times in chart["points"]:
            assert times == buckets, (name, camera)  # every bucket, none outside the axis
        # Labels in site time; the tick at the site's midnight names the day.
        labels = {
            datetime.fromtimestamp(v / 1000, TZ).strftime("%H:%M"): text
            for v, text in chart["labels"]
        }
        assert len(labels) >= 4, labels
        assert all(text.split("\n")[0] == hm for hm, text in labels.items()), labels
        assert labels.get("00:00") == "00:00\nSat 21 Nov", labels
    assert empty["extent"] == [_ms("2026-11-21T05:00"), _ms("2026-11-21T06:00")]
    assert all(not times for _, times in empty["points"])
