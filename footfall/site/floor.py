"""Floors: extent in metres and an optional floor-plan image.

Floor coordinates are metres: x runs along the width (0 … width_m) and y along the depth
(0 … depth_m). Drawn on the floor-plan image, x points right and y points down, like image
pixels, so a plan pixel is ``origin_px + pixels_per_metre * (x, y)``.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from pydantic import Field, ValidationInfo, field_validator

from footfall.site.base import (
    Float,
    ImagePoint,
    Int,
    Name,
    SiteModel,
    Slug,
    Text,
    problem,
    resolve_path,
)


class FloorPlan(SiteModel):
    """A floor-plan image and how it is scaled onto floor coordinates."""

    image: Text = Field(
        min_length=1,
        description="Path of the floor-plan image, relative to the YAML file's folder. "
        "It must exist.",
    )
    pixels_per_metre: Float = Field(gt=0, le=10000, description="Image scale, pixels per metre.")
    origin_px: ImagePoint = Field(
        default=(0.0, 0.0),
        description="Pixel [u, v] of the plan image where floor point (0, 0) lies.",
    )

    @field_validator("image")
    @classmethod
    def _image_exists(cls, value: str, info: ValidationInfo) -> str:
        path = resolve_path(value, info.context)
        if not Path(path).is_file():
            raise problem(
                f"floor-plan image not found: {path}",
                "give a path relative to the YAML file's folder, or remove 'plan'",
            )
        return path

    def to_pixels(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Floor metres → plan-image pixels."""
        s = self.pixels_per_metre
        return (self.origin_px[0] + s * x_m, self.origin_px[1] + s * y_m)


class Floor(SiteModel):
    """One level of the site."""

    id: Slug = Field(description="Unique floor id (slug), e.g. 'l0'.")
    name: Name = Field(description="Human-readable name, e.g. 'Ground floor'.")
    level: Int = Field(ge=-20, le=200, description="Storey number: 0 ground, 1 first, -1 basement.")
    width_m: Float = Field(gt=0, le=5000, description="Floor extent along x, metres.")
    depth_m: Float = Field(gt=0, le=5000, description="Floor extent along y, metres.")
    plan: FloorPlan | None = Field(default=None, description="Optional floor-plan image.")

    def extent(self) -> shapely.Polygon:
        """The floor rectangle [0, width_m] x [0, depth_m] as a polygon (metres)."""
        return shapely.box(0.0, 0.0, self.width_m, self.depth_m)

    def contains(self, x_m: float, y_m: float, tolerance_m: float = 1e-6) -> bool:
        """True if (x, y) lies inside the floor extent (edges included)."""
        return (
            -tolerance_m <= x_m <= self.width_m + tolerance_m
            and -tolerance_m <= y_m <= self.depth_m + tolerance_m
        )
