"""Feet → floor metres through the site homography, with and without lens distortion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from edge_footage import DEMO_SITE, PETS_GT, needs_pets

from edge.detection import Detections
from edge.geometry import FloorProjector
from footfall.site import load_site


@needs_pets
def test_pets_feet_land_where_the_ground_truth_says() -> None:
    camera = next(c for c in load_site(DEMO_SITE).cameras if c.id == "pets-view1")
    gt = np.loadtxt(PETS_GT, delimiter=",")
    rows = gt[gt[:, 0] == 300]
    xyxy = np.column_stack(
        [rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]]
    )
    projector = FloorProjector(camera)
    floor = projector.project(Detections(xyxy.astype(np.float32), np.ones(len(rows), np.float32)))
    expected = rows[:, 7:9] + [22.0, 18.0]  # the demo site's translation of the GT plane
    assert projector.floor_id == "l0"
    assert np.abs(floor - expected).max() < 0.5


def test_distorted_points_are_undistorted_before_the_homography() -> None:
    site = load_site(DEMO_SITE)
    base = next(c for c in site.cameras if c.id == "pets-view1")
    k = [[700.0, 0.0, 384.0], [0.0, 700.0, 288.0], [0.0, 0.0, 1.0]]
    coefficients = [-0.3, 0.1, 0.0, 0.0]
    distorted_camera = base.model_copy(
        update={"distortion": _distortion("pinhole", k, coefficients)}
    )
    ideal = np.array([[200.0, 400.0], [600.0, 500.0], [384.0, 288.0]])
    # distort the ideal pixels the way the lens would
    normalised = (ideal - [384.0, 288.0]) / 700.0
    pts3 = np.column_stack([normalised, np.ones(len(ideal))])
    seen, _ = cv2.projectPoints(pts3, np.zeros(3), np.zeros(3), np.array(k), np.array(coefficients))
    seen = seen.reshape(-1, 2)
    assert np.abs(seen - ideal).max() > 5  # the lens really moves them
    projector = FloorProjector(distorted_camera)
    assert projector.undistort(seen) == pytest.approx(ideal, abs=0.5)
    plain = FloorProjector(base)
    assert plain.undistort(seen) == pytest.approx(seen)


def test_fisheye_round_trip() -> None:
    site = load_site(DEMO_SITE)
    base = next(c for c in site.cameras if c.id == "pets-view1")
    k = [[300.0, 0.0, 384.0], [0.0, 300.0, 288.0], [0.0, 0.0, 1.0]]
    d = [0.05, -0.01, 0.0, 0.0]
    camera = base.model_copy(update={"distortion": _distortion("fisheye", k, d)})
    ideal = np.array([[300.0, 350.0], [500.0, 200.0]])
    normalised = ((ideal - [384.0, 288.0]) / 300.0).reshape(-1, 1, 2)
    seen = cv2.fisheye.distortPoints(normalised, np.array(k), np.array(d)).reshape(-1, 2)
    assert FloorProjector(camera).undistort(seen) == pytest.approx(ideal, abs=0.5)


def _distortion(model: str, k: list[list[float]], coefficients: list[float]) -> object:
    from footfall.site import Distortion

    return Distortion(model=model, camera_matrix=k, coefficients=coefficients)
