"""Camera topology: which cameras people walk between, and whose views overlap."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from footfall.site.base import Bool, Float, SiteModel, Slug, problem


class Link(SiteModel):
    """People leaving camera ``from`` can appear in camera ``to`` after a walk."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, serialize_by_alias=True, validate_by_name=True
    )

    from_camera: Slug = Field(alias="from", description="Camera id people leave.")
    to_camera: Slug = Field(alias="to", description="Camera id people reach.")
    min_walk_s: Float = Field(
        ge=0, le=3600, description="Shortest plausible walk between the views, seconds."
    )
    max_walk_s: Float = Field(
        gt=0, le=3600, description="Longest plausible walk between the views, seconds."
    )
    bidirectional: Bool = Field(default=True, description="Whether the link also runs to → from.")

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.min_walk_s > self.max_walk_s:
            raise problem(
                f"min_walk_s ({self.min_walk_s:g} s) is greater than max_walk_s "
                f"({self.max_walk_s:g} s)",
                "swap them, or widen the window so that min_walk_s ≤ max_walk_s",
                ("max_walk_s",),
            )
        return self

    def connects(self, a: str, b: str) -> bool:
        """True if someone can walk from camera a to camera b over this link."""
        forward = self.from_camera == a and self.to_camera == b
        backward = self.bidirectional and self.from_camera == b and self.to_camera == a
        return forward or backward


def _two_ids(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple(value)
    raise problem(
        "must be a pair of two camera ids",
        "write it as [camera-a, camera-b]",
    )


class Overlap(SiteModel):
    """Two cameras whose fields of view overlap on the floor."""

    cameras: Annotated[tuple[Slug, Slug], BeforeValidator(_two_ids)] = Field(
        description="The two camera ids [a, b]."
    )


class Topology(SiteModel):
    """Links and overlaps between cameras."""

    links: list[Link] = Field(default_factory=list, description="Walking links between cameras.")
    overlaps: list[Overlap] = Field(
        default_factory=list, description="Pairs of cameras with overlapping views."
    )
