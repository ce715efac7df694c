"""Counting lines: directed segments on a floor; crossing them counts people in or out.

Sides are as seen on the floor plan (x right, y down) when walking from ``a`` to ``b``.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Self

import numpy as np
from pydantic import Field, model_validator

from footfall.site.base import FloorPoint, Name, SiteModel, Slug, problem
from footfall.site.rules import step_crossings

MIN_LENGTH_M = 0.1
"""Shortest counting line accepted, metres."""


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"


class CountingLine(SiteModel):
    """A segment from ``a`` to ``b`` in floor metres; ``in_side`` is the inside."""

    id: Slug = Field(description="Unique line id (slug).")
    name: Name | None = Field(default=None, description="Human-readable name.")
    floor: Slug = Field(description="Id of the floor the line is on.")
    a: FloorPoint = Field(description="Start of the segment [x, y], metres.")
    b: FloorPoint = Field(description="End of the segment [x, y], metres.")
    in_side: Side = Field(
        description="Which side is 'in', seen walking from a to b on the floor plan "
        "(x right, y down): left or right."
    )
    zone: Slug | None = Field(
        default=None, description="Optional id of the zone the line belongs to (an entrance)."
    )

    @model_validator(mode="after")
    def _length(self) -> Self:
        if self.length_m < MIN_LENGTH_M:
            raise problem(
                f"line '{self.id}' is too short ({self.length_m:.3g} m; needs ≥ {MIN_LENGTH_M} m)",
                "a and b must be two different points across the walkway",
                ("b",),
            )
        return self

    @property
    def length_m(self) -> float:
        return math.dist(self.a, self.b)

    def _cross(self, x_m: float, y_m: float) -> float:
        (ax, ay), (bx, by) = self.a, self.b
        return (bx - ax) * (y_m - ay) - (by - ay) * (x_m - ax)

    def side_of(self, x_m: float, y_m: float) -> Side | None:
        """Side of the (infinite) line through a→b that (x, y) is on; None if on the line.

        With y pointing down, a positive cross product is to the right of the walking direction.
        """
        cross = self._cross(x_m, y_m)
        if cross == 0:
            return None
        return Side.RIGHT if cross > 0 else Side.LEFT

    def crossing(self, start: tuple[float, float], end: tuple[float, float]) -> int:
        """+1 if a step start→end crosses the segment into ``in_side``, -1 if out, 0 otherwise
        (:func:`footfall.site.rules.step_crossings`)."""
        _, direction = step_crossings(
            self, np.array([start[0], end[0]]), np.array([start[1], end[1]])
        )
        return int(direction[0]) if len(direction) else 0
