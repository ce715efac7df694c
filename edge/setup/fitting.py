"""What the set-up page shows about a camera's point pairs: the fitted homography's reprojection
errors (metres), whether the site would accept it, the camera's field of view on the floor and
where the snapshot's people stand.

The fit and its acceptance are the site model's own (:func:`footfall.site.geometry.fit_homography`
and :class:`footfall.site.Homography`), so the page agrees with ``footfall validate-config``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError

from footfall.site import Homography
from footfall.site.geometry import DegenerateError, apply_homography, fit_homography
from footfall.site.homography import MAX_MEAN_ERROR_M

FAR_RATIO = 1e-3
"""The field of view stops where the homography's scale w falls below this share of its largest
value over the frame (about 1000 times farther than the nearest floor in view)."""


def _clip(polygon: list[tuple[float, float]], inside: Any) -> list[tuple[float, float]]:
    """Sutherland–Hodgman: ``polygon`` clipped to where the linear function ``inside`` ≥ 0."""
    out: list[tuple[float, float]] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        a, b = inside(previous), inside(current)
        if (a >= 0) != (b >= 0):
            t = a / (a - b)
            out.append(
                (previous[0] + t * (current[0] - previous[0]),
                 previous[1] + t * (current[1] - previous[1]))
            )  # fmt: skip
        if b >= 0:
            out.append(current)
    return out


def field_of_view(
    matrix: np.ndarray, resolution: Sequence[int], floor_size_m: Sequence[float]
) -> list[list[float]]:
    """The floor area the whole frame sees, clipped to the floor ``[0, w] x [0, d]`` (metres).

    The frame is first cut below the horizon (``matrix`` is signed as
    :func:`~footfall.site.geometry.fit_homography` signs it: the floor in front of the camera
    has w > 0), so only floor in front of the camera is drawn. Empty if none is on the floor.
    """
    width, height = (float(v) for v in resolution)
    scale = np.asarray(matrix, np.float64)[2]
    frame = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    largest = max(scale[0] * u + scale[1] * v + scale[2] for u, v in frame)
    if largest <= 0:
        return []
    seen = _clip(
        frame, lambda p: scale[0] * p[0] + scale[1] * p[1] + scale[2] - FAR_RATIO * largest
    )
    if len(seen) < 3:
        return []
    area = shapely.Polygon(apply_homography(matrix, np.asarray(seen))).buffer(0)
    on_floor = area.intersection(
        shapely.box(0.0, 0.0, float(floor_size_m[0]), float(floor_size_m[1]))
    )
    if on_floor.is_empty:
        return []
    parts = getattr(on_floor, "geoms", [on_floor])
    biggest = max(parts, key=lambda g: g.area)
    if not isinstance(biggest, shapely.Polygon):
        return []
    # A frame corner that lands a hair outside the floor leaves a vertex on the floor's edge,
    # in line with its neighbours; which side it lands on depends on the machine's rounding.
    simple = biggest.simplify(1e-3, preserve_topology=True)
    outline = simple if isinstance(simple, shapely.Polygon) else biggest
    return [[round(x, 3), round(y, 3)] for x, y in outline.exterior.coords[:-1]]


def _problem_text(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    context = error.get("ctx") or {}
    fix = context.get("fix")
    return f"{error['msg']}; fix: {fix}" if fix else str(error["msg"])


def fit_report(
    points: Sequence[dict[str, Any]],
    *,
    resolution: Sequence[int],
    floor_size_m: Sequence[float],
    feet_px: Sequence[Sequence[float]] = (),
    max_error_m: float = MAX_MEAN_ERROR_M,
) -> dict[str, Any]:
    """A JSON-ready account of point pairs ``[{image: [u, v], floor: [x, y]}, …]``.

    ``count``, ``needed`` (pairs still missing, 0 from 4 on), ``limit_m``, and once 4 pairs fit:
    ``errors_m`` (one per pair), ``mean_error_m``, ``fov`` (floor polygon, metres), ``feet``
    (``feet_px``, undistorted pixels, on the floor; null above the horizon), ``problem`` (why
    validate-config would refuse the pairs, or null).
    """
    report: dict[str, Any] = {
        "count": len(points),
        "needed": max(0, 4 - len(points)),
        "limit_m": max_error_m,
        "errors_m": [],
        "mean_error_m": None,
        "fov": [],
        "feet": [],
        "problem": None,
    }
    if len(points) < 4:
        return report
    image = np.array([p["image"] for p in points], np.float64)
    floor = np.array([p["floor"] for p in points], np.float64)
    try:
        fit = fit_homography(image, floor)
    except DegenerateError as exc:
        report["problem"] = f"degenerate pairs: {exc}; spread at least 4 points over the floor"
        return report
    report["errors_m"] = [round(float(e), 4) for e in fit.errors_m]
    report["mean_error_m"] = round(fit.mean_error_m, 4)
    try:
        Homography.model_validate({"points": list(points), "max_error_m": max_error_m})
    except ValidationError as exc:
        report["problem"] = _problem_text(exc)
    report["fov"] = field_of_view(fit.matrix, resolution, floor_size_m)
    if len(feet_px):
        projected = apply_homography(fit.matrix, np.asarray(feet_px, np.float64).reshape(-1, 2))
        report["feet"] = [
            None if not np.all(np.isfinite(p)) else [round(float(p[0]), 3), round(float(p[1]), 3)]
            for p in projected
        ]
    return report
