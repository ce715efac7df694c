"""Zones: named polygons on a floor (entrances, stores, corridors, …)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

import shapely
from pydantic import Field, PrivateAttr, model_validator
from shapely.validation import explain_validity

from footfall.site.base import FloorPoint, Name, SiteModel, Slug, problem

MIN_AREA_M2 = 0.01
"""Smallest zone area accepted, square metres."""


class ZoneKind(StrEnum):
    ENTRANCE = "entrance"
    STORE = "store"
    CORRIDOR = "corridor"
    ESCALATOR = "escalator"
    ELEVATOR = "elevator"
    STAIRS = "stairs"
    FOOD_COURT = "food_court"
    CHECKOUT = "checkout"
    QUEUE = "queue"
    RESTROOM = "restroom"
    STAFF_ONLY = "staff_only"
    PARKING = "parking"
    OTHER = "other"


_REASON = re.compile(r"^(?P<what>.*?)\s*\[(?P<x>\S+)\s+(?P<y>\S+)\]$")


def explain_invalid(polygon: shapely.Polygon) -> str:
    """shapely's validity reason, reworded: ``Self-intersection[4 2.5]`` → ``self-intersection
    at (4.0, 2.5)``."""
    reason = explain_validity(polygon)
    match = _REASON.match(reason)
    if match is None:
        return reason[:1].lower() + reason[1:]
    what = match.group("what")
    try:
        x, y = float(match.group("x")), float(match.group("y"))
    except ValueError:
        return reason
    return f"{what[:1].lower()}{what[1:]} at ({x:.1f}, {y:.1f})"


class Zone(SiteModel):
    """A polygon on a floor, in floor metres."""

    id: Slug = Field(description="Unique zone id (slug).")
    name: Name = Field(description="Human-readable name.")
    floor: Slug = Field(description="Id of the floor the zone is on.")
    kind: ZoneKind = Field(description="What the zone is.")
    polygon: list[FloorPoint] = Field(
        min_length=3,
        max_length=1000,
        description="Outline [[x, y], …] in floor metres, at least 3 points, not "
        "self-intersecting; the closing point may be omitted.",
    )

    _shape: shapely.Polygon | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _valid_polygon(self) -> Self:
        shape = shapely.Polygon(self.polygon)
        if not shape.is_valid:
            raise problem(
                f"zone '{self.id}' polygon is not valid: {explain_invalid(shape)}",
                "list the corners in order around the outline so that edges do not cross "
                "(a bow-tie needs two of its points swapped)",
                ("polygon",),
            )
        if shape.area < MIN_AREA_M2:
            raise problem(
                f"zone '{self.id}' polygon has (almost) no area ({shape.area:.3g} m²)",
                "give at least 3 corners that are not on one line",
                ("polygon",),
            )
        self._shape = shape
        return self

    def shape(self) -> shapely.Polygon:
        """The zone outline as a shapely polygon, floor metres."""
        if self._shape is None:
            self._shape = shapely.Polygon(self.polygon)
        return self._shape

    def contains(self, x_m: float, y_m: float) -> bool:
        """True if floor point (x, y) is inside the zone or on its edge."""
        return bool(self.shape().intersects(shapely.Point(x_m, y_m)))
