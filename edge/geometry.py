"""Feet on the floor: box bottom-centres → floor metres through the camera's homography.

When the camera has lens distortion configured, pixel points are undistorted first
(``cv2.undistortPoints`` for pinhole, ``cv2.fisheye.undistortPoints`` for fisheye) back into
pixel coordinates (``P = K``), which is what the site's homography was fitted on.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.detection import Detections
from footfall.site import Camera, Distortion


def undistort_points(points_px: np.ndarray, distortion: Distortion | None) -> np.ndarray:
    """(N, 2) distorted pixel points → (N, 2) undistorted pixel points (``P = K``)."""
    points = np.asarray(points_px, np.float64).reshape(-1, 1, 2)
    if distortion is None or len(points) == 0:
        return points.reshape(-1, 2)
    k = np.asarray(distortion.camera_matrix, np.float64)
    coefficients = np.asarray(distortion.coefficients, np.float64)
    if distortion.model.value == "fisheye":
        out = cv2.fisheye.undistortPoints(points, k, coefficients, P=k)
    else:
        out = cv2.undistortPoints(points, k, coefficients, P=k)
    return np.asarray(out, np.float64).reshape(-1, 2)


class FloorProjector:
    """Projects one camera's boxes onto its floor; ``floor_id`` is the camera's floor."""

    def __init__(self, camera: Camera) -> None:
        self.floor_id = camera.floor
        self._camera = camera
        self._distortion = camera.distortion

    def undistort(self, points_px: np.ndarray) -> np.ndarray:
        """(N, 2) distorted pixel points → (N, 2) undistorted pixel points."""
        return undistort_points(points_px, self._distortion)

    def project(self, detections: Detections) -> np.ndarray:
        """(N, 2) floor metres of each box's bottom-centre; NaN rows where there is none."""
        if len(detections) == 0:
            return np.zeros((0, 2), np.float64)
        floor = self._camera.project_to_floor(self.undistort(detections.bottom_centres()))
        return np.asarray(floor, np.float64).reshape(-1, 2)
