"""Site camera fields from an OpenCV calibration (K, dist, R, t): the PETS plaza's two views."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from footfall.site import Camera, load_site
from footfall.site.calibration import (
    CalibrationError,
    OpenCvCalibration,
    camera_fields,
    floor_to_image,
    image_to_floor,
)
from footfall.site.cli import site_group

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "pets2009_s2l1_multiview"
CALIBRATION = DATA / "calibration.json"
needs_data = pytest.mark.skipif(not CALIBRATION.is_file(), reason="PETS multi-view data absent")

# A camera 5 m up (world in mm) looking down 40 degrees towards +y: floor at z = 0.
TILT = np.deg2rad(90 + 40)
R_DOWN = np.array(
    [[1, 0, 0], [0, np.cos(TILT), -np.sin(TILT)], [0, np.sin(TILT), np.cos(TILT)]], np.float64
)
CENTRE_MM = np.array([0.0, 0.0, 5000.0])
SYNTHETIC = OpenCvCalibration(
    K=np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]]),
    dist=np.zeros(5),
    R=R_DOWN,
    t=-R_DOWN @ CENTRE_MM,
)


def _project(cal: OpenCvCalibration, xyz_mm: np.ndarray) -> np.ndarray:
    cam = xyz_mm @ cal.R.T + cal.t
    pix = cam @ cal.K.T
    return np.asarray(pix[:, :2] / pix[:, 2:])


def test_homography_inverts_the_projection_of_floor_points() -> None:
    floor_mm = np.array([[0, 4000, 0], [1500, 6000, 0], [-2000, 9000, 0], [700, 12000, 0]], float)
    pixels = _project(SYNTHETIC, floor_mm)
    to_floor = image_to_floor(SYNTHETIC, unit_m=0.001, offset_m=(10, 2))
    h = np.column_stack([pixels, np.ones(len(pixels))]) @ to_floor.T
    floor_m = h[:, :2] / h[:, 2:]
    np.testing.assert_allclose(floor_m, floor_mm[:, :2] / 1000 + [10, 2], atol=1e-6)
    back = floor_to_image(SYNTHETIC, unit_m=0.001, offset_m=(10, 2))
    np.testing.assert_allclose(back @ to_floor / (back @ to_floor)[2, 2], np.eye(3), atol=1e-9)


def test_fields_make_a_valid_camera_that_maps_like_the_calibration() -> None:
    fields = camera_fields(SYNTHETIC, (640, 480), unit_m=0.001, offset_m=(10, 2))
    points = fields["homography"]["points"]
    assert 4 <= len(points) <= 16
    assert "distortion" not in fields  # all-zero coefficients: a pinhole image
    camera = Camera.model_validate(
        {"id": "c1", "floor": "f", "source": "x.mp4", "fps": 7, "resolution": [640, 480], **fields}
    )
    pixel = _project(SYNTHETIC, np.array([[500.0, 7000.0, 0.0]]))
    np.testing.assert_allclose(camera.project_to_floor(pixel), [[10.5, 9.0]], atol=0.01)


def test_points_above_the_horizon_or_off_the_plan_are_left_out() -> None:
    everything = camera_fields(SYNTHETIC, (640, 480), unit_m=0.001, max_range_m=1e6)
    near = camera_fields(SYNTHETIC, (640, 480), unit_m=0.001, max_range_m=7)
    on_plan = camera_fields(
        SYNTHETIC, (640, 480), unit_m=0.001, offset_m=(3, 0), floor_size_m=(6, 30)
    )
    assert len(near["homography"]["points"]) < len(everything["homography"]["points"])
    for p in on_plan["homography"]["points"]:
        assert 0 <= p["floor"][0] <= 6 and 0 <= p["floor"][1] <= 30


def test_a_bad_calibration_is_one_sentence() -> None:
    with pytest.raises(CalibrationError, match="not a rotation matrix"):
        OpenCvCalibration.of(
            {"K": np.eye(3).tolist(), "R": (2 * np.eye(3)).tolist(), "t": [0, 0, 1]}
        )
    with pytest.raises(CalibrationError, match="has no t"):
        OpenCvCalibration.of({"K": np.eye(3).tolist(), "R": np.eye(3).tolist()})
    looking_up = OpenCvCalibration(SYNTHETIC.K, np.zeros(5), np.eye(3), np.array([0, 0, -5000.0]))
    with pytest.raises(CalibrationError, match="see the floor"):
        camera_fields(looking_up, (640, 480), unit_m=0.001)


@needs_data
def test_pets_views_agree_on_the_floor_where_they_overlap() -> None:
    """The committed site maps the same person's feet in both views to nearby floor points."""
    site = load_site(REPO / "configs" / "sites" / "pets_plaza.yaml")
    import cv2

    from edge.geometry import FloorProjector

    floors = {}
    for camera, view in zip(site.cameras, ("View_001", "View_005"), strict=True):
        gt = np.loadtxt(DATA / "gt" / f"{view}.txt", delimiter=",")
        feet = np.column_stack([gt[:, 2] + gt[:, 4] / 2, gt[:, 3] + gt[:, 5]])
        xy = camera.project_to_floor(FloorProjector(camera).undistort(feet))
        floors[camera.id] = {(int(f), int(i)): p for (f, i), p in zip(gt[:, :2], xy, strict=True)}
    del cv2
    a, b = floors["pets-view1"], floors["pets-view5"]
    both = sorted(set(a) & set(b))
    gaps = np.array([np.hypot(*(a[k] - b[k])) for k in both])
    assert len(both) > 1000
    assert np.median(gaps) < 0.8  # SOURCE.md: ~0.4 m median agreement


@needs_data
def test_cli_prints_an_entry_that_validates(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        site_group,
        ["from-calibration", str(CALIBRATION), "--view", "View_005", "--id", "v5", "--floor",
         "plaza", "--source", "det.txt", "--fps", "7", "--resolution", "720", "576",
         "--unit-m", "0.001", "--offset", "22", "18", "--floor-size", "34", "30"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cameras = yaml.safe_load(result.output)
    site = {
        "site": {"id": "s", "name": "S", "timezone": "UTC"},
        "floors": [{"id": "plaza", "name": "P", "level": 0, "width_m": 34, "depth_m": 30}],
        "cameras": cameras,
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(site))
    loaded = load_site(tmp_path / "s.yaml")
    assert loaded.cameras[0].distortion is not None
    missing = CliRunner().invoke(
        site_group,
        ["from-calibration", str(CALIBRATION), "--view", "View_9", "--id", "v", "--floor", "p",
         "--source", "s", "--fps", "7", "--resolution", "720", "576"],
    )  # fmt: skip
    assert missing.exit_code != 0 and "has no view 'View_9'; views: View_001, View_005" in (
        missing.output
    )
    assert json.loads(CALIBRATION.read_text())  # the data is untouched JSON
