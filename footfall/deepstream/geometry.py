"""A camera's floor plan in its own image: the inverse homography and what the camera sees.

The site model maps image pixels to floor metres (:meth:`footfall.site.Camera.project_to_floor`).
DeepStream's analytics need the other direction: counting lines and zones drawn in each camera's
image. :class:`CameraView` inverts the homography, works out the part of the floor the camera
sees (the image rectangle below the horizon, mapped onto the floor), clips lines and zones to it
and maps them into the image. A homography maps straight lines to straight lines in front of the
camera, so clipping on the floor and mapping the vertices is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike

from footfall.errors import UserError
from footfall.site import Camera, CountingLine, Zone
from footfall.site.geometry import Array, apply_homography

HORIZON_MARGIN = 1e-3
"""Image points whose homogeneous weight is below this fraction of the largest in the frame are
left out: they map many times farther than the rest of the view (near the horizon)."""
REACH_M = 3.0
"""The view is cut to the calibrated area: the hull of the homography's floor points grown by
this many metres. Far beyond it the mapping is untested and a person a few pixels tall."""


class DistortedCameraError(UserError, ValueError):
    """DeepStream boxes are distorted pixels; the cloud has no lens model to undo that."""


@dataclass(frozen=True)
class ImageLine:
    """A counting line clipped to what the camera sees, in image pixels (a → b kept)."""

    line: CountingLine
    a_px: tuple[float, float]
    b_px: tuple[float, float]
    in_from_px: tuple[float, float]
    """Start of a short arrow across the line's middle that points to its in side."""
    in_to_px: tuple[float, float]


@dataclass(frozen=True)
class ImageZone:
    """One part of a zone clipped to what the camera sees, in image pixels."""

    zone: Zone
    part: int
    """0 for the first (often only) part of the zone in view, 1, 2 … for more."""
    polygon_px: tuple[tuple[float, float], ...]
    area_m2: float
    """Floor area of this visible part, square metres."""


class CameraView:
    """One camera's image ↔ floor mapping both ways and the floor area it sees."""

    def __init__(self, camera: Camera) -> None:
        if camera.distortion is not None:
            raise DistortedCameraError(
                f"camera '{camera.id}' has lens distortion, which DeepStream's boxes and "
                "nvdsanalytics' image coordinates do not undo; dewarp it in DeepStream "
                "(nvdewarper) and calibrate the dewarped image without distortion."
            )
        self.camera = camera
        self.to_floor_matrix = camera.homography()
        inverse = np.linalg.inv(self.to_floor_matrix)
        # Scale the inverse so that points in front of the camera have a positive weight, the
        # convention of apply_homography (a weight ≤ 0 is behind the camera).
        probe = np.array([*camera.calibration.points[0].floor, 1.0])
        if float((inverse @ probe)[2]) < 0:
            inverse = -inverse
        self.to_image_matrix = inverse
        self.visible_floor = self._visible_floor()

    @property
    def size(self) -> tuple[int, int]:
        return self.camera.resolution

    def to_image(self, points_m: ArrayLike) -> Array:
        """(N, 2) floor metres → (N, 2) image pixels (NaN behind the camera)."""
        return apply_homography(self.to_image_matrix, points_m)

    def to_floor(self, points_px: ArrayLike) -> Array:
        """(N, 2) image pixels → (N, 2) floor metres (NaN at or above the horizon)."""
        return apply_homography(self.to_floor_matrix, points_px)

    def _visible_floor(self) -> shapely.Geometry:
        """The floor area inside the image frame, in front of the camera and near the area its
        calibration points span (:data:`REACH_M`)."""
        w, h = self.size
        rect = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
        row = self.to_floor_matrix[2]

        def weight(p: tuple[float, float]) -> float:
            return float(row[0] * p[0] + row[1] * p[1] + row[2])

        floor_weight = max(weight(p) for p in rect) * HORIZON_MARGIN
        polygon = _clip_half_plane(rect, lambda p: weight(p) - floor_weight)
        if len(polygon) < 3:
            return shapely.Polygon()
        floor = self.to_floor(np.array(polygon))
        calibrated = shapely.MultiPoint([p.floor for p in self.camera.calibration.points])
        reach = calibrated.convex_hull.buffer(REACH_M, join_style="mitre")
        return shapely.Polygon(floor).buffer(0).intersection(reach)

    def line(self, line: CountingLine) -> ImageLine | None:
        """The counting line's part in view, in pixels; None when the camera does not see it."""
        if line.floor != self.camera.floor:
            return None
        seen = shapely.LineString([line.a, line.b]).intersection(self.visible_floor)
        if seen.is_empty or seen.length < 1e-6 or not isinstance(seen, shapely.LineString):
            return None
        start, end = (np.array(c) for c in (seen.coords[0], seen.coords[-1]))
        a, b = np.array(line.a), np.array(line.b)
        if np.dot(end - start, b - a) < 0:  # keep the a → b direction
            start, end = end, start
        d = (end - start) / float(np.linalg.norm(end - start))
        # With y down, (-dy, dx) points to the right of a → b (CountingLine.side_of).
        normal = np.array([-d[1], d[0]]) * (1.0 if line.in_side.value == "right" else -1.0)
        middle = (start + end) / 2
        half = 0.5
        while half > 0.01 and not all(
            shapely.contains_xy(self.visible_floor, *(middle + s * half * normal)) for s in (-1, 1)
        ):
            half /= 2
        pts = self.to_image(np.array([start, end, middle - half * normal, middle + half * normal]))
        if not np.isfinite(pts).all():
            return None
        a_px, b_px, from_px, to_px = (_pair(p) for p in pts)
        return ImageLine(line, a_px, b_px, from_px, to_px)

    def zone(self, zone: Zone) -> list[ImageZone]:
        """The zone's parts in view, each a polygon in pixels (empty when out of view)."""
        if zone.floor != self.camera.floor:
            return []
        seen = zone.shape().intersection(self.visible_floor)
        parts = [seen] if isinstance(seen, shapely.Polygon) else list(getattr(seen, "geoms", []))
        out: list[ImageZone] = []
        for part in parts:
            if not isinstance(part, shapely.Polygon) or part.area < 1e-4:
                continue
            ring = shapely.get_exterior_ring(shapely.normalize(shapely.Polygon(part.exterior)))
            pts = self.to_image(shapely.get_coordinates(ring)[:-1])
            if not np.isfinite(pts).all():
                continue
            polygon = tuple(_pair(p) for p in pts)
            out.append(ImageZone(zone, len(out), polygon, float(part.area)))
        return out


def _pair(p: Array) -> tuple[float, float]:
    return (float(p[0]), float(p[1]))


def _clip_half_plane(polygon: list[tuple[float, float]], side: object) -> list[tuple[float, float]]:
    """Sutherland–Hodgman: the part of a convex polygon where ``side(p) >= 0`` (side is linear)."""
    f = side  # a callable of a point; linear, so edges cross it at most once
    assert callable(f)
    out: list[tuple[float, float]] = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        fp, fq = float(f(p)), float(f(q))
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def distance_to_segment_m(point: tuple[float, float], line: CountingLine) -> float:
    """Distance in metres from a floor point to the counting line's segment."""
    return float(shapely.LineString([line.a, line.b]).distance(shapely.Point(point)))


def isfinite_pair(p: tuple[float, float]) -> bool:
    return math.isfinite(p[0]) and math.isfinite(p[1])
