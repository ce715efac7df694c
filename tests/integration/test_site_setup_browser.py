"""The site set-up page (``footfall edge setup``) in headless Chromium, on the real PETS 2009
View_001 footage with the real person detector.

An installer's session: the camera is calibrated by clicking point pairs (image ↔ floor plan)
whose true floor positions come from the PETS OpenCV calibration
(../shared/data/pets2009_s2l1_multiview/calibration.json, placed on the plaza as in
configs/sites/pets_plaza.yaml); the page must show a reprojection error under 0.5 m, the field
of view and the people's feet on the plan; a zone and a counting line are drawn; Save writes
YAML that ``footfall validate-config`` accepts, whose homography maps points that were not
clicked to within 0.5 m of their true positions. A second session imports the calibration file
instead. Screenshots go to ``.run/screenshots/`` (or ``$FOOTFALL_SCREENSHOT_DIR``; the
committed ones in ``reports/screenshots/`` come from there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from edge.config import EdgeConfig
from edge.detection_backends import build_detector
from edge.setup.draft import SiteDraft
from edge.setup.server import SetupApp, make_server
from footfall.site import load_site
from footfall.site.calibration import OpenCvCalibration, image_to_floor
from footfall.site.geometry import apply_homography

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
VIDEO = SHARED / "pets2009_s2l1" / "video" / "View_001_vtest.avi"
CALIBRATION = SHARED / "pets2009_s2l1_multiview" / "calibration.json"
UNIT_M, OFFSET = 0.001, (22.0, 18.0)  # millimetres; the plaza placement of pets_plaza.yaml
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
# undistorted pixels of View_001 to click: spread over the plaza's visible floor
CLICKED = [(120, 540), (400, 520), (690, 500), (150, 330), (450, 300), (700, 260), (380, 200)]
UNCLICKED = [(260, 430), (560, 400), (300, 260), (620, 520)]
TO_SCREEN = """([id, x, y]) => {
  const svg = document.getElementById(id);
  const p = svg.createSVGPoint();
  p.x = x; p.y = y;
  const q = p.matrixTransform(svg.getScreenCTM());
  return [q.x, q.y];
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


def _truth() -> Any:
    """Undistorted View_001 pixels → plaza metres, from the OpenCV calibration."""
    views = json.loads(CALIBRATION.read_text())
    return image_to_floor(OpenCvCalibration.of(views["View_001"], "View_001"), UNIT_M, OFFSET)


@pytest.fixture(scope="module")
def setup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``footfall edge setup``'s server over a PETS site whose camera has no homography yet."""
    if not (VIDEO.is_file() and CALIBRATION.is_file()):
        pytest.skip("the PETS 2009 footage is not here (../shared/data)")
    _need(Path(CHROMIUM).exists(), "chromium is not installed; run make system-deps")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need(False, "the playwright package is missing; run make venv")
    folder = tmp_path_factory.mktemp("setup")
    lens = json.loads(CALIBRATION.read_text())["View_001"]
    site = {
        "site": {"id": "pets-setup", "name": "PETS plaza set-up", "timezone": "Europe/London"},
        "floors": [{"id": "plaza", "name": "Campus plaza", "level": 0, "width_m": 32,
                    "depth_m": 30}],
        "cameras": [{"id": "pets-view1", "floor": "plaza", "source": str(VIDEO), "fps": 7.0,
                     "resolution": [768, 576],
                     "distortion": {"model": "pinhole", "camera_matrix": lens["K"],
                                    "coefficients": lens["dist"]}}],
    }  # fmt: skip
    draft_file = folder / "draft.yaml"
    draft_file.write_text(yaml.safe_dump(site, sort_keys=False))
    out = folder / "pets_setup.yaml"
    draft = SiteDraft(draft_file, out)
    # PyTorch fp32: the default OpenVINO INT8 model is calibrated on first use (minutes on 2
    # cores); which backend finds the people is not what this test is about
    detector_config = EdgeConfig().detector.model_copy(
        update={"backend": "torch", "precision": "fp32"}
    )
    app = SetupApp(draft, lambda: build_detector(detector_config, draft.footage()))
    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_address[1]}", "out": out}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(setup_server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _open(browser: Any, base: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(base + "/")
    page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=120000)
    page.wait_for_selector("#image image", timeout=60000)
    return page, errors


def _click(page: Any, svg: str, x: float, y: float) -> None:
    sx, sy = page.evaluate(TO_SCREEN, [svg, x, y])
    page.mouse.click(sx, sy)


def _mean_error(page: Any) -> float:
    return float(page.get_attribute("#fit", "data-mean-error") or "nan")


def test_calibrate_by_clicks_draw_save_and_validate(
    browser: Any, setup_server: dict[str, Any]
) -> None:
    page, errors = _open(browser, setup_server["base"])
    truth = _truth()
    floors = apply_homography(truth, np.array(CLICKED, np.float64))
    assert np.all((floors >= 0) & (floors <= [32, 30])), "the clicked points lie on the plaza"
    page.click("#save")  # nothing calibrated yet: refused, with validate-config's reasons
    page.wait_for_function("() => document.getElementById('save-status').dataset.ok === '0'")
    assert "homography" in page.inner_text("#save-status")
    assert not setup_server["out"].exists()
    people = int(page.locator("#image circle.foot").count())
    assert people >= 2, "the detector finds the people in frame 0 of View_001"
    for (u, v), (x, y) in zip(CLICKED, floors, strict=True):
        _click(page, "image", u, v)
        _click(page, "plan", x, y)
    page.wait_for_function(
        f"() => document.querySelectorAll('#pairs tbody tr').length === {len(CLICKED)}"
    )
    page.wait_for_function("() => document.getElementById('fit').dataset.ok === '1'")
    mean_error = _mean_error(page)
    assert mean_error < 0.5, page.inner_text("#fit")
    assert page.locator("#fov").count() == 1, "the field of view is drawn on the plan"
    assert page.locator("#plan circle.foot").count() >= 2, "the people's feet are on the plan"

    page.check("input[name=mode][value=zone]")
    page.fill("#zone-id", "plaza-walkway")
    page.fill("#zone-name", "Plaza walkway")
    page.select_option("#zone-kind", "corridor")
    for x, y in [(6, 7), (20, 7), (20, 18), (6, 18)]:
        _click(page, "plan", x, y)
    page.click("#zone-finish")
    page.check("input[name=mode][value=line]")
    page.fill("#line-id", "plaza-east-gate-line")
    page.fill("#line-name", "Plaza east gate")
    page.select_option("#line-side", "right")
    _click(page, "plan", 6, 6.5)
    _click(page, "plan", 18, 6.5)
    assert page.locator("#plan polygon.zone").count() == 1
    assert page.locator("#plan line.counting-line").count() == 1
    page.click("#save")
    page.wait_for_function("() => document.getElementById('save-status').dataset.ok !== ''")
    assert page.get_attribute("#save-status", "data-ok") == "1", page.inner_text("#save-status")
    page.screenshot(path=str(screenshot_dir() / "site-setup-calibrated.png"), full_page=True)
    assert not errors, errors
    page.close()

    out = setup_server["out"]
    check = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "validate-config", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout and "1 zone, 1 line" in check.stdout
    site = load_site(out)
    camera = site.camera("pets-view1")
    assert camera.reprojection_errors_m().mean() < 0.5
    # points that were not clicked land within 0.5 m of where the calibration puts them
    off = np.linalg.norm(
        camera.project_to_floor(UNCLICKED) - apply_homography(truth, np.array(UNCLICKED)), axis=1
    )
    assert off.max() < 0.5, off
    line = site.line("plaza-east-gate-line")  # clicks land on whole screen pixels: ~0.05 m
    assert np.allclose([line.a, line.b], [(6, 6.5), (18, 6.5)], atol=0.06), (line.a, line.b)
    assert site.zone("plaza-walkway").kind == "corridor"


def test_import_an_opencv_calibration(browser: Any, setup_server: dict[str, Any]) -> None:
    page, errors = _open(browser, setup_server["base"])
    page.click("#calibration summary")
    page.set_input_files("#cal-file", str(CALIBRATION))
    page.wait_for_function("() => document.getElementById('cal-view').options.length === 2")
    page.select_option("#cal-view", "View_001")
    page.fill("#cal-unit", str(UNIT_M))
    page.fill("#cal-ox", str(OFFSET[0]))
    page.fill("#cal-oy", str(OFFSET[1]))
    page.click("#cal-import")
    # the clicked session saved 7 pairs; the calibration gives its grid of 12
    page.wait_for_function("() => document.querySelectorAll('#pairs tbody tr').length >= 8")
    page.wait_for_function("() => document.getElementById('fit').dataset.ok === '1'")
    assert _mean_error(page) < 0.01, page.inner_text("#fit")
    assert page.locator("#pairs tbody tr").count() >= 8
    assert page.locator("#fov").count() == 1
    page.screenshot(
        path=str(screenshot_dir() / "site-setup-calibration-import.png"), full_page=True
    )
    assert not errors, errors
    page.close()
