"""A calibrated camera's site fields from OpenCV calibration: ``K``, ``dist``, ``R``, ``t``.

An installer with a calibrated camera (intrinsics ``K`` and distortion ``dist`` from
``cv2.calibrateCamera``, pose ``R``, ``t`` of the world in the camera frame, e.g. from
``cv2.solvePnP``, with the floor at world z = 0) need not pick points by hand: a floor point
(X, Y, 0) appears in the undistorted image at ``K [r1 r2 t] (X, Y, 1)ᵀ``, so the image → floor
homography is the inverse of ``K [r1 r2 t]``. The site model stores a homography as point
correspondences; :func:`camera_fields` lays a grid over the image, keeps the points that see
the floor in front of the camera within ``max_range_m``, and gives them with their floor
positions, plus the lens distortion (OpenCV pinhole model).

World units are converted to metres with ``unit_m`` (0.001 for millimetres) and the result is
shifted by ``offset_m`` so that the floor's coordinates suit the floor plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from footfall.site.geometry import Array


class CalibrationError(ValueError):
    """The calibration cannot give a floor homography; ``str()`` names the problem and the fix."""


@dataclass(frozen=True)
class OpenCvCalibration:
    """One camera's OpenCV calibration: ``K`` 3x3, ``dist`` (k1, k2, p1, p2[, k3…]), ``R``
    3x3 and ``t`` (3,) taking world points into the camera frame, world in ``unit_m`` metres."""

    K: Array
    dist: Array
    R: Array
    t: Array

    @classmethod
    def of(cls, data: dict[str, Any], name: str = "camera") -> OpenCvCalibration:
        """From a mapping with ``K``, ``dist``, ``R``, ``t`` (lists, as in calibration.json)."""
        try:
            k = np.asarray(data["K"], np.float64).reshape(3, 3)
            dist = np.asarray(data.get("dist", []), np.float64).reshape(-1)
            r = np.asarray(data["R"], np.float64).reshape(3, 3)
            t = np.asarray(data["t"], np.float64).reshape(3)
        except KeyError as exc:
            raise CalibrationError(
                f"Calibration of {name} has no {exc.args[0]}; give K (3x3), dist, R (3x3) "
                "and t (3)."
            ) from None
        except (TypeError, ValueError):
            raise CalibrationError(
                f"Calibration of {name}: K and R must be 3x3 and t 3 numbers; check the file."
            ) from None
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-3):
            raise CalibrationError(
                f"Calibration of {name}: R is not a rotation matrix (R·Rᵀ ≠ I); give the 3x3 "
                "rotation (cv2.Rodrigues of rvec), not rvec."
            )
        if len(dist) not in (0, 4, 5, 8):
            raise CalibrationError(
                f"Calibration of {name}: dist has {len(dist)} coefficients; OpenCV's pinhole "
                "model takes 4, 5 or 8 (k1, k2, p1, p2[, k3[, k4, k5, k6]])."
            )
        return cls(k, dist, r, t)


def floor_to_image(
    cal: OpenCvCalibration, unit_m: float = 1.0, offset_m: Sequence[float] = (0.0, 0.0)
) -> Array:
    """3x3 homography from floor metres (shifted by ``offset_m``) to undistorted pixels."""
    ox, oy = float(offset_m[0]), float(offset_m[1])
    to_world = np.array([[1 / unit_m, 0, -ox / unit_m], [0, 1 / unit_m, -oy / unit_m], [0, 0, 1]])
    plane = np.column_stack([cal.R[:, 0], cal.R[:, 1], cal.t])
    return np.asarray(cal.K @ plane @ to_world, np.float64)


def image_to_floor(
    cal: OpenCvCalibration, unit_m: float = 1.0, offset_m: Sequence[float] = (0.0, 0.0)
) -> Array:
    """3x3 homography from undistorted pixels to floor metres (the inverse of the above)."""
    forward = floor_to_image(cal, unit_m, offset_m)
    if abs(np.linalg.det(forward)) < 1e-12 * np.abs(forward).max() ** 3:
        raise CalibrationError(
            "The camera looks along the floor (its optical centre is on the plane z = 0): no "
            "floor homography; check that the world's z axis is the floor's normal."
        )
    inverse = np.linalg.inv(forward)
    return np.asarray(inverse / inverse[2, 2], np.float64)


def camera_fields(
    cal: OpenCvCalibration,
    resolution: tuple[int, int],
    *,
    unit_m: float = 1.0,
    offset_m: Sequence[float] = (0.0, 0.0),
    grid: int = 4,
    max_range_m: float = 60.0,
    floor_size_m: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The site camera's ``homography`` (image → floor correspondences) and ``distortion``.

    ``grid`` x ``grid`` image points from 10 % to 90 % of the frame (the lower rows first
    when some see no floor), those hitting the floor in front of the camera within
    ``max_range_m`` of the point below it (and on the floor plan, 0 ≤ x ≤ width and
    0 ≤ y ≤ depth, when ``floor_size_m`` is given). Raises CalibrationError when fewer than 4
    do.
    """
    width, height = resolution
    to_floor = image_to_floor(cal, unit_m, offset_m)
    centre_world = -cal.R.T @ cal.t  # optical centre, world units
    below = np.array(
        [centre_world[0] * unit_m + offset_m[0], centre_world[1] * unit_m + offset_m[1]]
    )
    us = np.linspace(0.1, 0.9, grid) * width
    vs = np.linspace(0.1, 0.9, grid) * height
    points = []
    for v in vs[::-1]:
        for u in us:
            fx, fy, fw = to_floor @ np.array([u, v, 1.0])
            if abs(fw) < 1e-12:
                continue
            floor = np.array([fx / fw, fy / fw])
            world = np.array([(floor[0] - offset_m[0]) / unit_m, (floor[1] - offset_m[1]) / unit_m])
            depth = (cal.R @ np.array([world[0], world[1], 0.0]) + cal.t)[2]
            if depth <= 0 or np.hypot(*(floor - below)) > max_range_m:
                continue  # above the horizon, or too far to be measured well
            if floor_size_m is not None and not (
                0 <= floor[0] <= floor_size_m[0] and 0 <= floor[1] <= floor_size_m[1]
            ):
                continue  # off the floor plan
            points.append(
                {"image": [round(float(u), 1), round(float(v), 1)], "floor": _round(floor)}
            )
    if len(points) < 4:
        raise CalibrationError(
            f"Only {len(points)} image points of the calibrated camera see the floor within "
            f"{max_range_m:g} m; check R and t (world → camera, floor at z = 0) and unit_m."
        )
    fields: dict[str, Any] = {"homography": {"points": points}}
    if len(cal.dist) and np.any(cal.dist != 0):
        fields["distortion"] = {
            "model": "pinhole",
            "camera_matrix": [[float(round(v, 6)) for v in row] for row in cal.K.tolist()],
            "coefficients": [float(f"{v:.8g}") for v in cal.dist.tolist()],
        }
    return fields


def _round(point: Array) -> list[float]:
    return [round(float(point[0]), 3), round(float(point[1]), 3)]
