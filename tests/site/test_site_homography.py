"""Image → floor homography: normalised DLT, projection, degenerate and inconsistent points."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from footfall.site import Camera, DegenerateError, check_site, fit_homography
from footfall.site.geometry import apply_homography, culprit

TRUE_H = np.array([[0.02, 0.001, -3.0], [0.0005, 0.05, -8.0], [0.0, 0.002, 1.0]])


def camera(points: list[dict[str, Any]], **extra: Any) -> Camera:
    data = {
        "id": "cam",
        "floor": "l0",
        "source": "rtsp://192.0.2.1/live",
        "fps": 25,
        "resolution": [1280, 720],
        "homography": {"points": points},
        **extra,
    }
    return Camera.model_validate(data)


def exact_points(image: np.ndarray) -> list[dict[str, Any]]:
    floor = apply_homography(TRUE_H, image)
    return [{"image": list(i), "floor": list(f)} for i, f in zip(image, floor, strict=True)]


GOOD_IMAGE = np.array(
    [[100, 700], [640, 690], [1180, 700], [1000, 300], [640, 310], [280, 300], [400, 500]],
    dtype=float,
)


def test_dlt_recovers_a_known_homography() -> None:
    fit = fit_homography(GOOD_IMAGE, apply_homography(TRUE_H, GOOD_IMAGE))
    assert fit.mean_error_m < 1e-9
    np.testing.assert_allclose(
        fit.matrix / fit.matrix[2, 2], TRUE_H / TRUE_H[2, 2], rtol=1e-7, atol=1e-12
    )


def test_least_squares_over_noisy_points() -> None:
    rng = np.random.default_rng(0)
    floor = apply_homography(TRUE_H, GOOD_IMAGE) + rng.normal(0, 0.02, (len(GOOD_IMAGE), 2))
    fit = fit_homography(GOOD_IMAGE, floor)
    assert 0 < fit.mean_error_m < 0.05


def test_project_to_floor() -> None:
    cam = camera(exact_points(GOOD_IMAGE))
    h = cam.homography()
    assert h.shape == (3, 3)
    out = cam.project_to_floor(np.array([[640.0, 500.0], [10.0, 20.0]]))
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, apply_homography(TRUE_H, [[640, 500], [10, 20]]), atol=1e-6)
    assert cam.project_to_floor(np.zeros((0, 2))).shape == (0, 2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        cam.project_to_floor(np.zeros((3, 3)))


def test_points_beyond_the_horizon_are_nan() -> None:
    cam = camera(exact_points(GOOD_IMAGE))
    # The horizon of TRUE_H is the image line 0.002 v + 1 = 0, i.e. v = -500.
    out = cam.project_to_floor(np.array([[640.0, -600.0], [640.0, 100.0]]))
    assert np.isnan(out[0]).all()
    assert np.isfinite(out[1]).all()


@pytest.mark.parametrize(
    ("image", "floor", "message"),
    [
        (
            [[0, 0], [100, 100], [200, 200], [0, 300]],
            [[0, 0], [1, 0], [1, 1], [0, 1]],
            "points[0], points[1] and points[2] lie on one line in the image",
        ),
        (
            [[0, 0], [100, 0], [100, 100], [0, 100]],
            [[0, 0], [1, 0], [2, 0], [0, 1]],
            "lie on one line in the floor",
        ),
        (
            [[0, 0], [100, 0], [100, 100], [0, 100], [100, 0.2]],
            [[0, 0], [1, 0], [1, 1], [0, 1], [2, 2]],
            "points[1] and points[4] have the same image position",
        ),
        (
            [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0], [500, 0]],
            [[0, 0], [1, 0], [1, 1], [0, 1], [2, 2], [3, 1]],
            "all points lie on one line in the image",
        ),
    ],
)
def test_degenerate_correspondences(image: Any, floor: Any, message: str) -> None:
    with pytest.raises(DegenerateError, match=re.escape(message)):
        fit_homography(image, floor)
    points = [{"image": i, "floor": f} for i, f in zip(image, floor, strict=True)]
    with pytest.raises(ValidationError, match=re.escape(message)):
        camera(points)


def test_degenerate_homography_is_reported_at_the_point(
    write_yaml: Callable[..., Path], minimal: str
) -> None:
    text = minimal.replace(
        "{image: [1000, 300], floor: [8, 4]}", "{image: [640, 700], floor: [5, 4]}"
    )
    _, problems = check_site(write_yaml(text))
    assert len(problems) == 1
    p = problems[0]
    assert p.path == "cameras[0].homography.points[2]"
    assert (p.line, p.column) == (21, 11)
    assert "degenerate correspondences" in p.message and "one line in the image" in p.message


def test_inconsistent_point_is_named(write_yaml: Callable[..., Path], minimal: str) -> None:
    good = exact_points(np.array([[100, 700], [1180, 700], [1000, 300], [280, 300], [640, 500]]))
    rows = "".join(
        f"        - {{image: [{p['image'][0]:g}, {p['image'][1]:g}], "
        f"floor: [{p['floor'][0] + 3:.3f}, {p['floor'][1] + 3:.3f}]}}\n"
        for p in good
    )
    rows = rows.replace(f"[{good[4]['floor'][0] + 3:.3f}", f"[{good[4]['floor'][0] + 5:.3f}")
    head, _, _ = minimal.partition("      points:\n")
    _, problems = check_site(write_yaml(head + "      points:\n" + rows))
    assert len(problems) == 1
    p = problems[0]
    assert p.path == "cameras[0].homography.points[4]"
    assert p.line == 23
    assert "mean reprojection error" in p.message and "exceeds 0.5 m" in p.message
    assert "points[4] (image [640, 500]" in p.message
    assert "re-measure points[4]" in p.fix


def test_tolerance_is_configurable() -> None:
    rng = np.random.default_rng(1)
    floor = apply_homography(TRUE_H, GOOD_IMAGE) + rng.normal(0, 0.3, (len(GOOD_IMAGE), 2))
    points = [{"image": list(i), "floor": list(f)} for i, f in zip(GOOD_IMAGE, floor, strict=True)]
    with pytest.raises(ValidationError, match=r"exceeds 0\.05 m"):
        Camera.model_validate(
            {
                "id": "cam",
                "floor": "l0",
                "source": "x.mp4",
                "fps": 25,
                "resolution": [1280, 720],
                "homography": {"points": points, "max_error_m": 0.05},
            }
        )
    assert camera(points).reprojection_errors_m().mean() < 0.5


def test_culprit_finds_the_outlier() -> None:
    floor = apply_homography(TRUE_H, GOOD_IMAGE)
    floor[3] += [4.0, -3.0]
    found = culprit(GOOD_IMAGE, floor)
    assert found is not None
    assert found[0] == 3
    assert found[1] == pytest.approx(5.0, abs=1e-6)


def test_image_points_must_be_inside_the_frame() -> None:
    points = exact_points(GOOD_IMAGE)
    points[2]["image"] = [1300, 700]
    with pytest.raises(ValidationError, match=r"outside the 1280x720 frame"):
        camera(points)
