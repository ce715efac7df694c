"""Cameras: video source, frame geometry, lens distortion and the image → floor homography."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Self

from numpy.typing import ArrayLike
from pydantic import Field, ValidationInfo, field_validator, model_validator

from footfall.site.base import (
    Float,
    ImageSize,
    Name,
    SiteModel,
    Slug,
    Text,
    problem,
    resolve_path,
)
from footfall.site.geometry import Array, apply_homography
from footfall.site.homography import MAX_MEAN_ERROR_M, Correspondence, Homography
from footfall.site.lens import Distortion, DistortionModel

__all__ = [
    "MAX_MEAN_ERROR_M",
    "Camera",
    "Correspondence",
    "Distortion",
    "DistortionModel",
    "Homography",
]

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")
"""URI schemes accepted for network sources; anything without a scheme is a file path."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class Camera(SiteModel):
    """One camera on one floor."""

    id: Slug = Field(description="Unique camera id (slug).")
    name: Name | None = Field(default=None, description="Human-readable name.")
    floor: Slug = Field(description="Id of the floor the camera looks at.")
    source: Text = Field(
        min_length=1,
        description="Video source: a file path (relative to the YAML file's folder), or an "
        "rtsp://, rtsps://, http:// or https:// URI. Files need not exist here.",
    )
    fps: Float = Field(gt=0, le=240, description="Frame rate of the source, frames per second.")
    resolution: ImageSize = Field(description="Frame size [width, height], pixels.")
    calibration: Homography = Field(
        alias="homography",
        description="Image → floor homography as point correspondences (pixels → metres).",
    )
    distortion: Distortion | None = Field(
        default=None, description="Lens distortion; omit for an undistorted (pinhole) image."
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        match = _SCHEME.match(value)
        if match is None:
            return resolve_path(value, info.context)
        scheme = match.group(1).lower()
        if scheme == "file":
            return resolve_path(value[len("file://") :], info.context)
        if scheme not in STREAM_SCHEMES:
            raise problem(
                f"unsupported source scheme '{scheme}://'",
                "use a file path, or an rtsp://, rtsps://, http:// or https:// URI",
            )
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: tuple[int, int]) -> tuple[int, int]:
        w, h = value
        if not (16 <= w <= 16384 and 16 <= h <= 16384):
            raise problem(
                f"resolution must be between 16 and 16384 pixels per side (got [{w}, {h}])",
                "give the frame size as [width, height] in pixels, for example [1920, 1080]",
            )
        return value

    @model_validator(mode="after")
    def _points_inside_frame(self) -> Self:
        if self.distortion is not None:  # undistorted pixels may fall outside the frame
            return self
        w, h = self.resolution
        for i, p in enumerate(self.calibration.points):
            u, v = p.image
            if not (0 <= u <= w and 0 <= v <= h):
                raise problem(
                    f"image point [{u:g}, {v:g}] is outside the {w}x{h} frame",
                    f"image coordinates are pixels with 0 ≤ u ≤ {w} and 0 ≤ v ≤ {h}",
                    ("homography", "points", i, "image"),
                )
        return self

    @property
    def is_stream(self) -> bool:
        """True for network sources (rtsp, http), False for files."""
        return _SCHEME.match(self.source) is not None

    @property
    def source_path(self) -> Path | None:
        """The source as a file path (absolute when loaded from a file), or None for streams."""
        return None if self.is_stream else Path(self.source)

    def homography(self) -> Array:
        """The 3x3 image → floor homography (undistorted pixels → metres)."""
        return self.calibration.fit.matrix.copy()

    def reprojection_errors_m(self) -> Array:
        """Distance in metres between each correspondence's floor point and its projection."""
        return self.calibration.fit.errors_m.copy()

    def project_to_floor(self, points_px: ArrayLike) -> Array:
        """Map undistorted image points (N, 2) in pixels to floor points (N, 2) in metres.

        Points at or above the horizon line have no floor position and come back as NaN.
        """
        return apply_homography(self.calibration.fit.matrix, points_px)
