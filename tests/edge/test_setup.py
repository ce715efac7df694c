"""The site set-up server (edge/setup): its JSON API over real HTTP on loopback, with a person
detector twin (fixed boxes) instead of YOLO; the page itself is driven in Chromium by
tests/integration/test_site_setup_browser.py."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml

from edge.detection import Detections
from edge.setup.draft import DraftError, SiteDraft
from edge.setup.fitting import field_of_view, fit_report
from edge.setup.server import RequestError, SetupApp, make_server
from edge.setup.snapshot import take_snapshot
from footfall.site import load_site

BOX = [40.0, 20.0, 80.0, 100.0]  # x1, y1, x2, y2: the head is the top 20 % (y 20..36)


class BoxDetector:
    """Finds one person at BOX in every image."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        self.calls += 1
        return [
            Detections(xyxy=np.array([BOX], np.float32), confidence=np.array([0.9], np.float32))
            for _ in images
        ]


def _site(tmp_path: Path, **camera: Any) -> Path:
    """A site with one camera (no homography yet) over a folder of two noisy frames."""
    frames = tmp_path / "footage" / "img1"
    frames.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(2):
        cv2.imwrite(str(frames / f"{i + 1:06d}.png"), rng.integers(0, 255, (120, 160, 3), np.uint8))
    cam = {"id": "cam-1", "floor": "f0", "source": "footage", "fps": 5.0, "resolution": [160, 120]}
    cam.update(camera)
    data = {
        "site": {"id": "test-site", "name": "Test", "timezone": "Europe/London"},
        "floors": [{"id": "f0", "name": "Ground", "level": 0, "width_m": 20, "depth_m": 10}],
        "cameras": [cam],
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# image → floor: u/8 m across, v/12 m deep (a camera looking straight down)
PAIRS = [
    {"image": [0, 0], "floor": [0, 0]},
    {"image": [160, 0], "floor": [20, 0]},
    {"image": [160, 120], "floor": [20, 10]},
    {"image": [0, 120], "floor": [0, 10]},
    {"image": [80, 60], "floor": [10, 5]},
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    detector = BoxDetector()
    (tmp_path / "out").mkdir()
    draft = SiteDraft(_site(tmp_path), tmp_path / "out" / "site.yaml")
    server = make_server(SetupApp(draft, lambda: detector), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "base": f"http://127.0.0.1:{server.server_address[1]}",
        "out": tmp_path / "out" / "site.yaml",
        "detector": detector,
    }
    server.shutdown()
    server.server_close()


def _call(base: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_page_and_site_are_served(served: dict[str, Any]) -> None:
    with urllib.request.urlopen(served["base"] + "/", timeout=10) as answer:
        assert b"Site set-up" in answer.read()
    status, site = _call(served["base"], "/api/site")
    assert status == 200
    assert site["file"] == str(served["out"])
    # the source was relative to the site file's folder: rebased for the out/ folder
    assert site["data"]["cameras"][0]["source"] == "../footage"
    assert "entrance" in site["zone_kinds"]
    status, _ = _call(served["base"], "/static/../draft.py")
    assert status == 404


def test_floor_plan_image_is_served(tmp_path: Path) -> None:
    site = _site(tmp_path)
    data = yaml.safe_load(site.read_text())
    cv2.imwrite(str(tmp_path / "plan.png"), np.full((50, 100, 3), 200, np.uint8))
    data["floors"][0]["plan"] = {"image": "plan.png", "pixels_per_metre": 5}
    site.write_text(yaml.safe_dump(data))
    app = SetupApp(SiteDraft(site), None)
    image, kind = app.plan("f0")
    assert kind == "image/png"
    assert cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR).shape == (50, 100, 3)
    with pytest.raises(RequestError, match="no plan image"):
        SetupApp(SiteDraft(_site(tmp_path / "other")), None).plan("f0")


def test_snapshot_blurs_heads_and_gives_feet(served: dict[str, Any], tmp_path: Path) -> None:
    status, shot = _call(served["base"], "/api/snapshot", {"camera": "cam-1", "frame": 1})
    assert status == 200, shot
    assert (shot["width"], shot["height"], shot["pixels"]) == (160, 120, True)
    assert shot["feet_px"] == [[60.0, 100.0]]
    raw = shot["image"].removeprefix("data:image/jpeg;base64,")
    image = cv2.imdecode(np.frombuffer(base64.b64decode(raw), np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imread(str(tmp_path / "footage" / "img1" / "000002.png"))
    head = (slice(22, 34), slice(44, 76))
    body = (slice(50, 95), slice(44, 76))
    # noise keeps its contrast in the body; in the blurred head it is gone
    assert image[head].std() < 0.4 * original[head].std()
    assert image[body].std() > 0.7 * original[body].std()
    status, answer = _call(served["base"], "/api/snapshot", {"camera": "cam-1", "frame": 9})
    assert status == 400 and "no frame 9" in answer["error"]
    status, answer = _call(served["base"], "/api/snapshot", {"camera": "nope"})
    assert status == 400 and "no camera 'nope'" in answer["error"]


def test_fit_reports_error_fov_and_feet(served: dict[str, Any]) -> None:
    status, fit = _call(
        served["base"], "/api/fit", {"camera": "cam-1", "points": PAIRS[:3], "feet_px": []}
    )
    assert status == 200 and fit["needed"] == 1 and fit["mean_error_m"] is None
    status, fit = _call(
        served["base"], "/api/fit", {"camera": "cam-1", "points": PAIRS, "feet_px": [[60, 100]]}
    )
    assert status == 200
    assert fit["mean_error_m"] < 1e-6 and fit["problem"] is None
    assert fit["feet"] == [[7.5, 8.333]]
    assert sorted(map(tuple, fit["fov"])) == [(0, 0), (0, 10), (20, 0), (20, 10)]
    bad = [*PAIRS[:4], {"image": [80, 60], "floor": [16, 9]}]  # one pair 7 m off
    status, fit = _call(served["base"], "/api/fit", {"camera": "cam-1", "points": bad})
    assert fit["mean_error_m"] > 0.5
    assert "exceeds 0.5 m" in fit["problem"] and "points[4]" in fit["problem"]


def test_field_of_view_stops_at_the_horizon() -> None:
    # a camera tilted so that the top of the frame (v < 40) looks above the horizon
    matrix = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0.01, -0.4]])
    polygon = field_of_view(matrix, (160, 120), (1000, 1000))
    assert polygon, "the lower part of the frame sees the floor"
    assert all(0 <= x <= 1000 and 0 <= y <= 1000 for x, y in polygon)
    report = fit_report(PAIRS[:4], resolution=(160, 120), floor_size_m=(20, 10))
    assert report["needed"] == 0 and report["fov"]


def test_calibration_import(served: dict[str, Any]) -> None:
    # a camera 10 m above the floor point (10, 5), looking straight down
    calibration = {
        "top": {
            "K": [[100, 0, 80], [0, 100, 60], [0, 0, 1]],
            "dist": [0.01, 0, 0, 0, 0],
            "R": [[1, 0, 0], [0, -1, 0], [0, 0, -1]],
            "t": [-10, 5, 10],
        }
    }
    body = {"camera": "cam-1", "calibration": calibration, "view": "top", "unit_m": 1}
    status, fields = _call(served["base"], "/api/calibration", body)
    assert status == 200, fields
    assert len(fields["homography"]["points"]) == 16
    assert fields["distortion"]["model"] == "pinhole"
    status, answer = _call(served["base"], "/api/calibration", {**body, "view": "side"})
    assert status == 400 and "views: top" in answer["error"]


def test_save_writes_only_a_valid_site(served: dict[str, Any]) -> None:
    _, site = _call(served["base"], "/api/site")
    data = site["data"]
    status, result = _call(served["base"], "/api/save", {"data": data})
    assert status == 200 and not result["ok"]
    assert any("homography" in p for p in result["problems"]), result["problems"]
    assert not served["out"].exists()
    data["cameras"][0]["homography"] = {"points": PAIRS}
    data["zones"] = [
        {"id": "hall", "name": "Hall", "floor": "f0", "kind": "corridor",
         "polygon": [[1, 1], [9.5, 1], [9.5, 8], [1, 8]]},
    ]  # fmt: skip
    data["lines"] = [
        {"id": "door", "name": "Door", "floor": "f0", "a": [1, 9], "b": [9, 9], "in_side": "left"}
    ]
    status, result = _call(served["base"], "/api/save", {"data": data})
    assert result["ok"], result
    assert "1 camera, 1 zone, 1 line" in result["summary"]
    site_model = load_site(served["out"])
    assert site_model.camera("cam-1").source == str(served["out"].parent.parent / "footage")
    assert [z.id for z in site_model.zones] == ["hall"]
    assert [p.name for p in served["out"].parent.iterdir()] == ["site.yaml"]  # no temp file left


def test_snapshot_of_a_detection_file(tmp_path: Path) -> None:
    det = tmp_path / "cam.txt"
    det.write_text("1,-1,10,20,30,60,0.9,-1,-1,-1\n3,-1,50,20,30,60,0.9,-1,-1,-1\n")
    shot = take_snapshot(
        str(det), "cam", frame_index=0, detector=None, resolution=(160, 120), fps=5.0
    )
    assert not shot.pixels and (shot.width, shot.height) == (160, 120)
    assert shot.feet_px.tolist() == [[25.0, 80.0]]


def test_draft_errors_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DraftError, match="does not exist"):
        SiteDraft(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {id: x}\n")
    with pytest.raises(DraftError, match="has no floors"):
        SiteDraft(bad)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_the_page(tmp_path: Path) -> None:
    site = _site(tmp_path)
    port = _free_port()
    footfall = str(Path(sys.executable).parent / "footfall")
    process = subprocess.Popen(
        [footfall, "edge", "setup", "--site", str(site), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                status, answer = _call(f"http://127.0.0.1:{port}", "/api/site")
                break
            except OSError:
                assert time.monotonic() < deadline, "footfall edge setup did not serve in 120 s"
                time.sleep(0.5)
        assert status == 200 and answer["file"] == str(site)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in output and "stopped" in output
    assert process.returncode == 0
    bad = subprocess.run(
        [footfall, "edge", "setup", "--site", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("Error: Site file") and "Traceback" not in bad.stderr
