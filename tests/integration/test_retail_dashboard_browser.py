"""The retail pages (conversion, alerts, compare, portfolio) in headless Chromium, at laptop and
wall size, over a database filled through the ingest writer, with transactions posted and an
alert fired and one cleared by the alerts worker's pass. Each chart must draw data points, each
table have rows, the console stay free of errors; screenshots as in test_dashboard_browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from retail_site import STORE, retail_site
from served_api import serve
from synthetic import site_messages
from test_alerts import _beats
from test_dashboard_browser import (
    ALL_CHARTS_READY,
    CHROMIUM,
    CHROMIUM_FLAGS,
    SIZES,
    Console,
    _need,
    screenshot_dir,
)

from cloud.alerts.run import AlertSettings, alert_pass
from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.dashboard import missing_asset_message
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate

pytestmark = pytest.mark.integration


def _daytime_zone(now: datetime) -> str:
    """A time zone where it is now between 04:00 and 20:00, so the two hours of data and the three
    posted transaction hours all fall on the site's today, whatever time the test runs (run just
    after the site's midnight, two of the three hours were yesterday's and the total was wrong)."""
    for name in ("Europe/London", "Asia/Tokyo", "America/Los_Angeles"):
        if 4 <= now.astimezone(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError("unreachable: the three zones cover every hour")


SITE = retail_site(
    {"occupancy": [{"zone": STORE, "capacity": 2}], "cameras": {"silent_minutes": 5}},
    timezone=_daytime_zone(datetime.now(UTC)),
)
PAGES = ("conversion", "alerts", "compare", "portfolio")


@pytest.fixture(scope="module")
def server(module_database_url: str) -> Iterator[dict[str, Any]]:
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    _need(missing_asset_message() is None, str(missing_asset_message()))
    url = module_database_url
    now = datetime.now(UTC).replace(microsecond=0)
    tz = ZoneInfo(SITE.site.timezone)
    start = max(
        now - timedelta(hours=2),
        datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tzinfo=tz),
    )
    span = (now - start).total_seconds()
    messages = [
        *site_messages(SITE, start, span, fps=1, walkers_per_minute=4, seed=21),
        *site_messages(SITE, start - timedelta(days=7), span, fps=1, walkers_per_minute=2, seed=22),
    ]
    quiet = SITE.cameras[-1].id
    with psycopg.connect(url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for i in range(0, len(messages), 5000):
            writer.write(messages[i : i + 5000])
        derive_all_dirty(conn, SITE)
        writer.write(
            [
                b
                for c in SITE.cameras
                for b in _beats(SITE.id, c.id, now - timedelta(minutes=40), now)
                if c.id != quiet or b.sent_at < now - timedelta(minutes=30)
            ]
        )
        # the quiet camera's alert is open now (and the store's, when it holds over 2)
        alert_pass(conn, [SITE], AlertSettings(), now)
        key = create_key(conn, SITE.id, "browser test")
    with serve(create_app(ApiSettings(url, [SITE]))) as base:
        hour = now.astimezone(tz).replace(minute=0, second=0).replace(tzinfo=None)
        rows = [
            {
                "store": STORE,
                "start": (hour - timedelta(hours=h)).isoformat(),
                "transactions": 3 + h,
            }
            for h in range(3)
        ]
        r = httpx.post(
            f"{base}/v1/sites/{SITE.id}/transactions",
            json={"rows": rows},
            headers={"X-API-Key": key},
        )
        assert r.status_code == 200, r.text
        yield {"base": base, "key": key}


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_retail_pages_draw_data_without_console_errors(
    browser: Any, server: dict[str, Any], size: str
) -> None:
    width, height, query = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    console = Console(page)
    shots = screenshot_dir()
    for name in PAGES:
        page.goto(f"{server['base']}/dashboard/{SITE.id}/{name}{query}#key={server['key']}")
        page.wait_for_function(ALL_CHARTS_READY, timeout=30000)
        charts = page.eval_on_selector_all(
            ".chart", "cs => cs.map(c => [c.id, Number(c.dataset.points)])"
        )
        assert not [c for c, points in charts if points <= 0], f"{name}: charts without data"
        for table in page.query_selector_all("table"):
            assert table.query_selector_all("tbody tr"), f"{name}: a table has no rows"
        assert page.is_hidden("#problem"), page.inner_text("#problem")
        if name == "conversion":
            assert page.inner_text("#kpi-transactions") == "12"  # 3 + 4 + 5
            assert page.inner_text("#kpi-conversion").endswith("%")
        if name == "alerts":
            quiet = SITE.cameras[-1].id
            assert (
                page.get_attribute(f'tr[data-alert="camera-silent:{quiet}"]', "data-state")
                == "open"
            )
        if name == "compare":
            assert page.query_selector_all("#compare-table tbody tr[data-kpi]")
        if name == "portfolio":
            assert page.inner_text("#portfolio-table tbody tr td") == SITE.site.name
        page.wait_for_timeout(500)  # let the last animation settle for the picture
        page.screenshot(path=str(shots / f"dashboard-{name}-{size}.png"), full_page=True)
    context.close()
    assert not console.errors, console.errors
