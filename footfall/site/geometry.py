"""Image → floor homographies: normalised DLT, projection and correspondence checks (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

DUPLICATE_PX = 0.5
"""Two image points closer than this many pixels are the same point."""

DUPLICATE_M = 0.01
"""Two floor points closer than this many metres are the same point."""

COLLINEAR_RATIO = 1e-3
"""Three points are collinear when twice their triangle area / (longest side)² is below this."""

RANK_RATIO = 1e-9
"""The DLT system is rank deficient when its 2nd-smallest / largest singular value is below this."""


class DegenerateError(ValueError):
    """The correspondences cannot determine a homography. ``index`` names a culprit if known."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, eq=False)
class Fit:
    """A fitted homography with its reprojection errors (metres, one per correspondence)."""

    matrix: Array
    errors_m: Array
    behind: NDArray[np.bool_]
    """True for correspondences whose image point maps behind the camera (beyond the horizon)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fit):
            return NotImplemented
        return all(
            np.array_equal(a, b)
            for a, b in zip(
                (self.matrix, self.errors_m, self.behind),
                (other.matrix, other.errors_m, other.behind),
                strict=True,
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def mean_error_m(self) -> float:
        return float(np.mean(self.errors_m))

    @property
    def worst(self) -> int:
        """Index of the correspondence that is off the most."""
        return int(np.argmax(self.errors_m))


def as_points(points: ArrayLike, name: str = "points") -> Array:
    """Validate and convert to a float (N, 2) array."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2), got {array.shape}")
    return array


def _normaliser(points: Array) -> Array:
    """Hartley normalisation: centroid to the origin, mean distance √2."""
    centre = points.mean(axis=0)
    spread = float(np.mean(np.linalg.norm(points - centre, axis=1)))
    scale = np.sqrt(2.0) / spread if spread > 0 else 1.0
    return np.array(
        [[scale, 0.0, -scale * centre[0]], [0.0, scale, -scale * centre[1]], [0.0, 0.0, 1.0]]
    )


def _homogeneous(points: Array) -> Array:
    return np.column_stack([points, np.ones(len(points))])


def apply_homography(matrix: ArrayLike, points: ArrayLike) -> Array:
    """Map (N, 2) points through a 3x3 homography; points at or beyond the horizon become NaN."""
    h = np.asarray(matrix, dtype=np.float64)
    pts = as_points(points)
    mapped = _homogeneous(pts) @ h.T
    w = mapped[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mapped[:, :2] / w
    out[(w[:, 0] <= 1e-12) | ~np.isfinite(out).all(axis=1)] = np.nan
    return np.asarray(out, dtype=np.float64)


def _check_duplicates(points: Array, tolerance: float, what: str) -> None:
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            if float(np.linalg.norm(points[i] - points[j])) < tolerance:
                raise DegenerateError(
                    f"points[{i}] and points[{j}] have the same {what} position "
                    f"({points[j][0]:g}, {points[j][1]:g})",
                    j,
                )


def _collinear(a: Array, b: Array, c: Array) -> bool:
    area2 = abs(float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))
    longest = max(
        float(np.sum((b - a) ** 2)), float(np.sum((c - a) ** 2)), float(np.sum((c - b) ** 2))
    )
    return longest == 0.0 or area2 / longest < COLLINEAR_RATIO


def _check_collinear(points: Array, what: str) -> None:
    n = len(points)
    if n == 4:
        for i in range(n):
            for j in range(i + 1, n):
                for k in range(j + 1, n):
                    if _collinear(points[i], points[j], points[k]):
                        raise DegenerateError(
                            f"points[{i}], points[{j}] and points[{k}] lie on one line in the "
                            f"{what}; with only 4 correspondences no 3 may be collinear",
                            k,
                        )
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[0] == 0.0 or singular[-1] / singular[0] < COLLINEAR_RATIO:
        raise DegenerateError(f"all points lie on one line in the {what}")


def check_degenerate(image_px: Array, floor_m: Array) -> None:
    """Raise :class:`DegenerateError` if the correspondences cannot define a homography."""
    if len(image_px) < 4:
        raise DegenerateError(f"need at least 4 correspondences, got {len(image_px)}")
    _check_duplicates(image_px, DUPLICATE_PX, "image")
    _check_duplicates(floor_m, DUPLICATE_M, "floor")
    _check_collinear(image_px, "image")
    _check_collinear(floor_m, "floor")


def fit_homography(image_px: ArrayLike, floor_m: ArrayLike) -> Fit:
    """Fit image → floor by normalised DLT (least squares over all correspondences).

    Raises :class:`DegenerateError` for duplicate, collinear or rank-deficient correspondences.
    The returned matrix is signed so that most correspondences lie in front of the camera
    (positive homogeneous coordinate), which lets :func:`apply_homography` reject points beyond
    the horizon; ``Fit.behind`` flags any that do not.
    """
    src = as_points(image_px, "image points")
    dst = as_points(floor_m, "floor points")
    if len(src) != len(dst):
        raise ValueError("image and floor points must have the same length")
    check_degenerate(src, dst)
    t_src, t_dst = _normaliser(src), _normaliser(dst)
    s = _homogeneous(src) @ t_src.T
    d = _homogeneous(dst) @ t_dst.T
    rows = []
    for (x, y, _), (u, v, _) in zip(s, d, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    _, singular, vt = np.linalg.svd(np.asarray(rows))
    if singular[0] == 0.0 or singular[7] / singular[0] < RANK_RATIO:
        raise DegenerateError("the correspondences do not determine a unique homography")
    h = np.linalg.inv(t_dst) @ vt[-1].reshape(3, 3) @ t_src
    if abs(float(np.linalg.det(h))) < 1e-12 * float(np.max(np.abs(h))) ** 3:
        raise DegenerateError("the fitted homography is singular")
    w = _homogeneous(src) @ h[2]
    if np.median(w) < 0:
        h = -h
    h = h / float(np.max(np.abs(h)))
    mapped = _homogeneous(src) @ h.T
    with np.errstate(divide="ignore", invalid="ignore"):
        errors = np.linalg.norm(mapped[:, :2] / mapped[:, 2:3] - dst, axis=1)
    errors[~np.isfinite(errors)] = np.inf
    behind = np.asarray(mapped[:, 2] <= 0)
    return Fit(np.asarray(h, dtype=np.float64), np.asarray(errors, dtype=np.float64), behind)


def culprit(image_px: ArrayLike, floor_m: ArrayLike) -> tuple[int, float] | None:
    """The correspondence the others disagree with most: the one whose removal leaves the
    smallest mean error. Returns its index and its distance in metres from where the fit of the
    others puts it, or None with fewer than 6 correspondences (any 4 points fit a homography
    exactly, so leaving one of 5 out leaves nothing to disagree with)."""
    src = as_points(image_px, "image points")
    dst = as_points(floor_m, "floor points")
    best: tuple[float, int, float] | None = None
    if len(src) < 6:
        return None
    for i in range(len(src)):
        keep = np.arange(len(src)) != i
        try:
            fit = fit_homography(src[keep], dst[keep])
        except DegenerateError:
            continue
        predicted = apply_homography(fit.matrix, src[i : i + 1])[0]
        off = (
            float(np.linalg.norm(predicted - dst[i])) if np.all(np.isfinite(predicted)) else np.inf
        )
        if best is None or fit.mean_error_m < best[0]:
            best = (fit.mean_error_m, i, off)
    return None if best is None else (best[1], best[2])
