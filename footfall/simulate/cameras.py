"""What a camera sees: its field of view on the floor, and people's boxes in its image.

The field of view is the convex hull of the camera's homography floor points (the site author
measured them across the visible floor). A person's box is drawn from where their feet project
into the image (the inverse homography) and the local image scale: 0.55 m wide, 1.75 m tall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from footfall.site import Camera


@dataclass
class CameraView:
    index: int
    camera: Camera
    floor: int
    """Index of the camera's floor."""
    hull: shapely.Polygon
    bounds: tuple[float, float, float, float]
    to_image: np.ndarray
    """3x3 floor → image homography."""
    skew_s: float
    """How far the camera's clock is off, seconds (reported time = true time + skew)."""
    run_id: str
    node_id: str

    @classmethod
    def of(
        cls, index: int, camera: Camera, floor: int, skew_s: float, run_id: str, node_id: str
    ) -> CameraView:
        points = np.array([p.floor for p in camera.calibration.points], dtype=np.float64)
        hull = shapely.convex_hull(shapely.MultiPoint(points))
        assert isinstance(hull, shapely.Polygon), f"camera {camera.id}: floor points on a line"
        shapely.prepare(hull)
        return cls(
            index,
            camera,
            floor,
            hull,
            tuple(hull.bounds),  # type: ignore[arg-type]
            np.linalg.inv(camera.homography()),
            skew_s,
            run_id,
            node_id,
        )

    def sees(self, floor: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean mask: which floor points (same shapes) are in the field of view."""
        x0, y0, x1, y1 = self.bounds
        near = (floor == self.floor) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        out = np.zeros(near.shape, dtype=bool)
        if near.any():
            out[near] = shapely.contains_xy(self.hull, x[near], y[near])
        return out

    def _project(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = self.to_image
        w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w

    def boxes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boxes (N, 4) ``[x1, y1, x2, y2]`` in pixels of people standing at floor (x, y),
        clipped to the image; a row of NaN where the box would be degenerate."""
        u, v = self._project(x, y)
        ux, vx = self._project(x + 0.5, y)
        uy, vy = self._project(x, y + 0.5)
        scale = np.hypot(ux - u, vx - v) + np.hypot(uy - u, vy - v)  # pixels per metre
        width, height = self.camera.resolution
        half = 0.275 * scale
        box = np.stack(
            [
                np.clip(u - half, 0, width),
                np.clip(v - 1.75 * scale, 0, height),
                np.clip(u + half, 0, width),
                np.clip(v, 0, height),
            ],
            axis=1,
        )
        bad = (box[:, 2] - box[:, 0] < 2) | (box[:, 3] - box[:, 1] < 2) | ~np.isfinite(box).all(1)
        box[bad] = np.nan
        return box
