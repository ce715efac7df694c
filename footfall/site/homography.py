"""Image → floor homography given as point correspondences, checked when loaded."""

from __future__ import annotations

from typing import Self

import numpy as np
from pydantic import Field, PrivateAttr, model_validator

from footfall.site.base import Float, FloorPoint, ImagePoint, SiteModel, problem
from footfall.site.geometry import DegenerateError, Fit, culprit, fit_homography

MAX_MEAN_ERROR_M = 0.5
"""Default tolerance: mean reprojection error of the correspondences, in metres."""


class Correspondence(SiteModel):
    """One point seen in the image and its known position on the floor."""

    image: ImagePoint = Field(description="Position in the camera image [u, v], pixels.")
    floor: FloorPoint = Field(description="The same point on the floor [x, y], metres.")


class Homography(SiteModel):
    """Image → floor mapping given as point correspondences (fitted by normalised DLT)."""

    points: list[Correspondence] = Field(
        min_length=4,
        max_length=100,
        description="At least 4 image/floor correspondences, well spread over the walkable area "
        "(no 3 collinear when only 4 are given). Image points are undistorted pixels.",
    )
    max_error_m: Float = Field(
        default=MAX_MEAN_ERROR_M,
        gt=0,
        le=5,
        description="Reject the correspondences when their mean reprojection error exceeds this "
        "many metres.",
    )

    _fit: Fit | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _fit_and_check(self) -> Self:
        image = np.array([p.image for p in self.points], dtype=np.float64)
        floor = np.array([p.floor for p in self.points], dtype=np.float64)
        try:
            fit = fit_homography(image, floor)
        except DegenerateError as exc:
            at: tuple[str | int, ...] = ("points", exc.index) if exc.index is not None else ()
            raise problem(
                f"degenerate correspondences: {exc}",
                "use at least 4 distinct points spread over the floor area, not on one line",
                at,
            ) from None
        if fit.mean_error_m > self.max_error_m:
            worst = fit.worst
            off = float(fit.errors_m[worst])
            how = ""
            suspect = culprit(image, floor)
            if suspect is not None:
                worst, off = suspect
                how = " from where the other points place it"
            p = self.points[worst]
            raise problem(
                f"mean reprojection error {fit.mean_error_m:.2f} m exceeds {self.max_error_m:g} m; "
                f"points[{worst}] (image [{p.image[0]:g}, {p.image[1]:g}] → floor "
                f"[{p.floor[0]:g}, {p.floor[1]:g}]) is off the most, by {off:.2f} m{how}",
                f"re-measure points[{worst}] (or remove it); check that image and floor "
                "coordinates are not swapped",
                ("points", worst),
            )
        if fit.behind.any():
            k = int(np.argmax(fit.behind))
            raise problem(
                f"points[{k}] maps behind the camera (beyond the horizon) while the others do not",
                f"re-measure points[{k}]: its image point must show the floor",
                ("points", k),
            )
        self._fit = fit
        return self

    @property
    def fit(self) -> Fit:
        if self._fit is None:  # only when built with model_construct
            image = np.array([p.image for p in self.points], dtype=np.float64)
            floor = np.array([p.floor for p in self.points], dtype=np.float64)
            self._fit = fit_homography(image, floor)
        return self._fit
