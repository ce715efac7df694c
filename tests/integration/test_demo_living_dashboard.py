"""``make demo`` ends on a living dashboard (issue 16), driven exactly as a person would.

``footfall demo`` runs as ``make demo`` runs it (a child process, serving), bounded to 20 frames
of each clip and on a stack of its own (a private ``FOOTFALL_RUN_DIR`` under
``FOOTFALL_TEST_STACK_DIR``, emptied first as on a clean clone; free ports). The test reads the
sign-in address the demo *prints*, opens it in headless Chromium, walks every dashboard page and
requires each to draw data (every chart reports data points, every table has rows, no problem
shown) within a minute; then it sends SIGINT as Ctrl-C does and requires a clean stop: exit 0, a
final line, no traceback in the output or the children's logs, every child gone. The overview
and flows pages are saved as screenshots (``.run/screenshots/demo-*.png``; the README's come
from there).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    Console,
    _need,
    screenshot_dir,
)

from cloud.api.dashboard import PAGES, missing_asset_message
from footfall.stack import profile_for, stack_down

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
ADDRESS = re.compile(r"^\s+(http://127\.0\.0\.1:\d+/dashboard/[\w-]+/overview#key=\S+)$")
CHILD = re.compile(r"^\s+(ingest|stitcher|alerts|api|simulator)\s+pid (\d+)\s")
DRAWN = """() => {
  const charts = [...document.querySelectorAll('.chart')];
  const tables = [...document.querySelectorAll('table')];
  return charts.length > 0
    && charts.every((c) => c.dataset.ready === '1' && Number(c.dataset.points) > 0)
    && tables.every((t) => t.querySelector('tbody tr') !== null)
    && document.getElementById('problem').hidden;
}"""

LIVE_PEOPLE = "() => Number(document.getElementById('kpi-now').dataset.live) >= 1"
STATE = """() => ({
  charts: [...document.querySelectorAll('.chart')]
    .map((c) => [c.id, c.dataset.ready, c.dataset.points]),
  tables: [...document.querySelectorAll('table')]
    .map((t) => t.querySelectorAll('tbody tr').length),
  problem: document.getElementById('problem').hidden
    ? null : document.getElementById('problem').textContent,
})"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_s3_base() -> int:
    """A base port for SeaweedFS: it listens on base … base+4, base+10 … base+13 (gRPC) and
    base+10004 (footfall.stack.services checks each before starting it)."""
    for base in random.sample(range(20000, 50000, 20), 200):
        wanted = (*range(base, base + 5), *range(base + 10, base + 14), base + 10004)
        if all(_is_free(p) for p in wanted):
            return base
    raise RuntimeError("no free ports for SeaweedFS")


class Demo:
    """``footfall demo`` in a child process; its output is collected line by line."""

    def __init__(self, run_root: Path, ports: dict[str, int], api_port: int) -> None:
        env = dict(os.environ)
        for name in ("FOOTFALL_DATABASE_URL", "FOOTFALL_BOOTSTRAP_SERVERS"):
            env.pop(name, None)
        env["FOOTFALL_RUN_DIR"] = str(run_root)
        for key, port in ports.items():
            env[f"FOOTFALL_DEMO_{key.upper()}"] = str(port)
        footfall = Path(sys.executable).with_name("footfall")  # what make demo runs
        self.process = subprocess.Popen(
            [str(footfall), "demo", "--frames", "20", "--port", str(api_port)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = pattern.match(line)
                if found:
                    return found
            if self.process.poll() is not None:
                time.sleep(0.5)  # the last lines
                pytest.fail(f"the demo exited ({self.process.returncode}):\n{self.output}")
            time.sleep(0.5)
        pytest.fail(f"no line like {pattern.pattern} within {timeout_s:.0f} s:\n{self.output}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=90)
        self._reader.join(timeout=10)
        return code


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    _need(missing_asset_message() is None, str(missing_asset_message()))
    _need((SHARED / "pets2009_s2l1").is_dir(), f"the demo footage is not in {SHARED}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need(False, "the playwright package is missing; run make venv")
    root = Path(os.environ.get("FOOTFALL_TEST_STACK_DIR", REPO / ".run" / "pytest")) / "demo-run"
    ports = {"pg_port": _free_port(), "broker_port": _free_port(), "s3_port": _free_s3_base()}
    profile = profile_for("demo", root=root, **ports)
    stack_down(profile)  # anything a killed earlier run left
    shutil.rmtree(root, ignore_errors=True)  # as on a clean clone
    running = Demo(root, ports, _free_port())
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.terminate()
            try:
                running.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                running.process.kill()
        stack_down(profile)


def test_make_demo_ends_on_a_living_dashboard_and_ctrl_c_stops_it(demo: Demo) -> None:
    from playwright.sync_api import sync_playwright

    address = demo.wait_for(ADDRESS, timeout_s=900).group(1)
    printed = demo.output
    children = {m.group(1): int(m.group(2)) for m in map(CHILD.match, demo.lines) if m}
    assert set(children) == {"ingest", "stitcher", "alerts", "api", "simulator"}, printed

    # The real footage's counts stand next to the ground truth where the clip has one.
    assert "ground truth in/out" in printed
    for camera in ("pets-view1", "tud-stadtmitte"):
        row = next(ln for ln in demo.lines if f" {camera} " in ln and " / " in ln)
        assert re.search(r"\d+ / \d+\s+(\d+ / \d+|none either)$", row), row
    intel = next(ln for ln in demo.lines if " intel-entrance " in ln and " / " in ln)
    assert intel.endswith("no ground truth for this clip"), intel

    base, rest = address.split("/dashboard/", 1)
    site = rest.split("/", 1)[0]
    drawn_after: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        console = Console(page)
        shown = time.monotonic()
        page.goto(address)  # exactly what the demo printed
        for name in PAGES:
            if name != "overview":  # the key stays in the tab: the nav links just work
                page.click(f"nav a[href='/dashboard/{site}/{name}']")
                page.wait_for_url(f"**/dashboard/{site}/{name}")
            started = time.monotonic()
            _wait_drawn(page, name)
            drawn_after[name] = round(time.monotonic() - started, 1)
            assert "#key=" not in page.url
            if name == "overview":  # people are in the mall now, on the live stream
                page.wait_for_function(LIVE_PEOPLE, timeout=60_000)
        # The mall's alert rules (its config's alerts: section) are listed on the Alerts page.
        page.goto(f"{base}/dashboard/{site}/alerts")
        page.wait_for_function(DRAWN, timeout=60_000)
        rules = page.inner_text("#rule-table tbody")
        assert "Supermarket checkout" in rules and "No alert rules" not in rules, rules
        page.goto(f"{base}/dashboard/{site}/flows")
        page.wait_for_function(DRAWN, timeout=60_000)
        page.wait_for_timeout(800)  # the last animation, for the picture
        page.screenshot(path=str(screenshot_dir() / "demo-flows.png"))
        page.goto(f"{base}/dashboard/{site}/overview")
        page.wait_for_function(DRAWN, timeout=60_000)
        page.wait_for_function(LIVE_PEOPLE, timeout=60_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(screenshot_dir() / "demo-overview.png"))
        # The mall has a lift and restrooms on each floor: the pages name them with their floor.
        lifts = page.evaluate(
            "async () => { const m = await import('/dashboard/static/common.js');"
            " return [m.zoneName('l0-lift'), m.zoneName('l1-lift')]; }"
        )
        assert lifts == ["Lift (Ground floor)", "Lift (First floor)"], lifts
        browser.close()
    print(f"pages drawn after (s): {drawn_after}; walk {time.monotonic() - shown:.0f} s")
    assert not console.errors, console.errors

    code = demo.stop()
    assert code == 0, demo.output
    assert demo.lines[-1].startswith("demo stopped (Ctrl-C)"), demo.output
    assert "Traceback" not in demo.output
    for name, pid in children.items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone (the demo reaped it)
        log = _log_of(demo.output, name)
        assert "Traceback" not in log.read_text(), f"{name}: {log}"


def _wait_drawn(page: Any, name: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(DRAWN, timeout=60_000, polling=500)
    except PlaywrightTimeout:
        state = page.evaluate(STATE)
        pytest.fail(f"{name}: no data drawn within a minute: {state}")


def _log_of(output: str, name: str) -> Path:
    found = re.search(rf"^\s+{name}\s+pid \d+\s.*\(log (\S+)\)$", output, re.M)
    assert found, output
    return REPO / found.group(1)  # relative to where the demo ran
