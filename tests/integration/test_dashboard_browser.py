"""The operations dashboard in headless Chromium, against a database filled by a live replay.

Every page is loaded at laptop size (1366×768) and wall-screen size (1920×1080, ``?wall=1``);
each chart must report that it drew data points, the tables must have rows, and the browser
console must show no error. Screenshots go to ``.run/screenshots/`` (or
``$FOOTFALL_SCREENSHOT_DIR``; the committed ones in ``reports/screenshots/`` come from there).
Live occupancy must change on the page, without a reload, when people are added.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (its own browser download does
not work here). Without Chromium the tests skip, unless ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from dashboard_replay import LiveReplay, free_port

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.dashboard import PAGES, missing_asset_message
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE = load_site(REPO / "configs" / "sites" / "demo.yaml")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = {"laptop": (1366, 768, ""), "wall": (1920, 1080, "?wall=1")}
ALL_CHARTS_READY = """() => {
  const charts = [...document.querySelectorAll('.chart')];
  return charts.length > 0 && charts.every((c) => c.dataset.ready === '1');
}"""


def _need(condition: bool, reason: str) -> None:
    """Skip for a missing browser part, but fail under CI (there it must run)."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)")
    pytest.skip(reason)


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("FOOTFALL_SCREENSHOT_DIR", REPO / ".run" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(module_database_url: str) -> Iterator[dict[str, Any]]:
    """The API on a free loopback port over a replayed site, the replay still feeding live."""
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    _need(missing_asset_message() is None, str(missing_asset_message()))
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need(False, "the playwright package is missing; run make venv")
    import uvicorn

    replay = LiveReplay(module_database_url, SITE, datetime.now(UTC))
    with psycopg.connect(module_database_url) as conn:
        key = create_key(conn, SITE.id, "browser test")
    port = free_port()
    config = uvicorn.Config(
        create_app(ApiSettings(module_database_url, [SITE])),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    api = uvicorn.Server(config)
    thread = threading.Thread(target=api.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not api.started:
        assert time.monotonic() < deadline, "the API did not start within 30 s"
        time.sleep(0.05)
    replay.start()
    yield {"base": f"http://127.0.0.1:{port}", "key": key, "replay": replay}
    replay.stop()
    api.should_exit = True
    thread.join(timeout=10)
    assert not replay.errors, replay.errors


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Console:
    """Collects the page's console errors and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


def _open(page: Any, server: dict[str, Any], name: str, query: str = "") -> None:
    page.goto(f"{server['base']}/dashboard/{SITE.id}/{name}{query}#key={server['key']}")
    page.wait_for_function(ALL_CHARTS_READY, timeout=20000)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_draws_data_without_console_errors(
    browser: Any, server: dict[str, Any], size: str
) -> None:
    width, height, query = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    console = Console(page)
    shots = screenshot_dir()
    for name in PAGES:
        _open(page, server, name, query)
        assert server["key"] not in page.url, "the key must leave the address bar"
        charts = page.eval_on_selector_all(
            ".chart", "cs => cs.map(c => [c.id, Number(c.dataset.points)])"
        )
        empty = [c for c, points in charts if points <= 0]
        assert not empty, f"{name}: charts without data: {empty}"
        for table in page.query_selector_all("table"):
            assert table.query_selector_all("tbody tr"), f"{name}: a table has no rows"
        assert page.is_hidden("#problem"), page.inner_text("#problem")
        page.wait_for_timeout(500)  # let the last animation settle for the picture
        page.screenshot(path=str(shots / f"dashboard-{name}-{size}.png"), full_page=True)
    context.close()
    assert not console.errors, console.errors


def test_live_occupancy_changes_without_reload(browser: Any, server: dict[str, Any]) -> None:
    replay: LiveReplay = server["replay"]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    console = Console(page)
    _open(page, server, "overview")
    page.wait_for_function("() => Number(document.getElementById('kpi-now').dataset.live) >= 1")
    page.evaluate("() => { window.notReloaded = true; }")
    zone = "lobby-waiting-spot"
    attr = f"data-zone_{zone.replace('-', '_')}"
    before = int(page.get_attribute("#occupancy-now", attr) or "0")
    now = datetime.now(UTC)
    replay.add_people(zone, 4, now - timedelta(seconds=10), now + timedelta(seconds=90))
    page.wait_for_function(
        f"() => Number(document.getElementById('occupancy-now').getAttribute('{attr}')) >= 4",
        timeout=15000,
    )
    after = int(page.get_attribute("#occupancy-now", attr) or "0")
    assert after >= 4 and after != before
    assert page.evaluate("() => window.notReloaded === true"), "the page reloaded"
    page.wait_for_function(ALL_CHARTS_READY)
    page.wait_for_timeout(1000)  # the bars' update animation
    page.screenshot(path=str(screenshot_dir() / "dashboard-overview-live.png"))
    page.close()
    assert not console.errors, console.errors


def test_the_overview_shows_a_past_day_as_it_ended(browser: Any, server: dict[str, Any]) -> None:
    """?day= (the day picker): that day's figures at 23:59, no live stream, labels that say so."""
    import httpx

    tz = ZoneInfo(SITE.site.timezone)
    day = (datetime.now(tz) - timedelta(days=7)).date().isoformat()  # the replay's last week
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    console = Console(page)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    _open(page, server, "overview", f"?day={day}")
    assert page.input_value("#day") == day
    assert page.inner_text("#kpi-entries-label").startswith("Entries on ")
    assert "23:59" in page.inner_text("#kpi-now-label")
    assert not [u for u in asked if "occupancy/stream" in u], "a past day has no live stream"
    assert [u for u in asked if "/overview?at=" in u and f"{day}T23%3A59%3A59" in u], asked
    answer = httpx.get(
        f"{server['base']}/v1/sites/{SITE.id}/overview",
        params={"at": f"{day}T23:59:59"},
        headers={"X-API-Key": server["key"]},
    ).json()
    shown = int(page.inner_text("#kpi-entries").replace(",", ""))
    assert shown == answer["entries"]
    assert page.is_hidden("#problem"), page.inner_text("#problem")
    page.wait_for_timeout(500)  # let the last animation settle for the picture
    page.screenshot(path=str(screenshot_dir() / "dashboard-overview-past-day.png"))
    # Picking today again goes back to the live page.
    page.fill("#day", datetime.now(tz).date().isoformat())
    page.dispatch_event("#day", "change")
    page.wait_for_function("() => !location.search.includes('day=')")
    page.wait_for_function(ALL_CHARTS_READY, timeout=20000)
    assert page.inner_text("#kpi-entries-label") == "Entries today"
    page.close()
    assert not console.errors, console.errors


def test_sign_in_keeps_the_key_out_of_urls(browser: Any, server: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server['base']}/dashboard/{SITE.id}/flows")
    page.wait_for_url("**/dashboard/?*")  # no key yet: sent to the sign-in page
    assert "API key" in page.inner_text("form")
    page.screenshot(path=str(screenshot_dir() / "dashboard-signin.png"))
    page.fill("#key", "ffk_not_a_key")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/?*reason=*")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('refused the key')"
    )
    # the sign-in page lists no sites; a good key for another site id is refused by the API
    assert page.query_selector("select") is None
    assert page.input_value("#site") == SITE.id  # from the page that sent us here
    page.fill("#site", "elsewhere")
    page.fill("#key", server["key"])
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.includes('elsewhere')"
    )
    page.fill("#site", SITE.id)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/dashboard/{SITE.id}/flows")
    page.wait_for_function(ALL_CHARTS_READY, timeout=20000)
    html = page.content()
    assert server["key"] not in html and server["key"] not in page.url
    # the name comes from the API once the key is accepted
    assert page.inner_text(".site-name") == SITE.site.name
    assert SITE.site.name in page.title()
    page.close()
