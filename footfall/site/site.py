"""The root of a site configuration and its lookups."""

from __future__ import annotations

import difflib
import zoneinfo
from functools import cache
from pathlib import Path
from typing import Self, TypeVar

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from footfall.site.alerts import AlertRules
from footfall.site.base import Name, SiteModel, Slug, Text, problem
from footfall.site.camera import Camera
from footfall.site.floor import Floor
from footfall.site.line import CountingLine
from footfall.site.reporting import ReportingRules
from footfall.site.rules import CountingRules
from footfall.site.topology import Link, Topology
from footfall.site.verify import SiteParts, verify_all
from footfall.site.zone import Zone


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


class SiteInfo(SiteModel):
    """Who and where the site is."""

    id: Slug = Field(description="Site id (slug), e.g. 'riverside-mall'.")
    name: Name = Field(description="Human-readable site name.")
    timezone: Text = Field(description="IANA time zone of the site, e.g. 'Europe/London'.")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, _timezones(), n=3, cutoff=0.6)
            hint = f" — did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise problem(
                f"unknown time zone {value!r}{hint}",
                "use an IANA time zone name such as 'Europe/London' or 'America/New_York'",
            ) from None
        return value


T = TypeVar("T", Floor, Camera, Zone, CountingLine)


def _find(kind: str, items: list[T], ident: str) -> T:
    for item in items:
        if item.id == ident:
            return item
    close = difflib.get_close_matches(ident, [i.id for i in items], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise KeyError(f"no {kind} with id {ident!r}{hint}")


class Site(SiteModel):
    """A whole site: floors, cameras, zones, counting lines and camera topology.

    Built directly (``Site.model_validate(data)``), the cross-object ``verify_*`` checks run too
    and fail with one ValueError listing them all; :func:`footfall.site.load_site` runs them
    itself to report each with its place in the YAML file.
    """

    site: SiteInfo = Field(description="Site id, name and time zone.")
    floors: list[Floor] = Field(
        min_length=1, description="The floors (levels) of the site, at least one."
    )
    cameras: list[Camera] = Field(
        default_factory=list, description="The cameras, each on one floor."
    )
    zones: list[Zone] = Field(
        default_factory=list, description="The zones: named polygons on floors, in metres."
    )
    lines: list[CountingLine] = Field(
        default_factory=list, description="The counting lines: directed segments on floors."
    )
    topology: Topology = Field(
        default_factory=Topology, description="Walking links and view overlaps between cameras."
    )
    counting: CountingRules = Field(
        default_factory=CountingRules,
        description="How trajectories become counts: line hysteresis, minimum zone visit, visit "
        "gap, heatmap cell (defaults when left out).",
    )
    reporting: ReportingRules = Field(
        default_factory=ReportingRules,
        description="Rules behind reported figures: staff, groups, queues, opening hours "
        "(defaults when left out).",
    )
    alerts: AlertRules = Field(
        default_factory=AlertRules,
        description="Alert rules (zone capacity, entries far from usual, silent or degraded "
        "cameras) and the webhooks alerts are sent to (none when left out).",
    )

    _source_file: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Self:
        context = info.context
        if isinstance(context, dict) and context.get("defer_verify"):
            return self
        problems = verify_all(self.parts())
        if problems:
            raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))
        return self

    def parts(self) -> SiteParts:
        """This site's objects as :class:`SiteParts` for the ``verify_*`` checks."""
        return SiteParts.of(
            self.floors,
            self.cameras,
            self.zones,
            self.lines,
            self.topology.links,
            self.topology.overlaps,
        )

    @property
    def source_file(self) -> Path | None:
        """The YAML file this site was loaded from, if any."""
        return self._source_file

    @property
    def id(self) -> str:
        return self.site.id

    def floor(self, floor_id: str) -> Floor:
        """The floor with this id (KeyError if none)."""
        return _find("floor", self.floors, floor_id)

    def camera(self, camera_id: str) -> Camera:
        """The camera with this id (KeyError if none)."""
        return _find("camera", self.cameras, camera_id)

    def zone(self, zone_id: str) -> Zone:
        """The zone with this id (KeyError if none)."""
        return _find("zone", self.zones, zone_id)

    def line(self, line_id: str) -> CountingLine:
        """The counting line with this id (KeyError if none)."""
        return _find("line", self.lines, line_id)

    def cameras_on(self, floor_id: str) -> list[Camera]:
        """Cameras looking at this floor."""
        return [c for c in self.cameras if c.floor == floor_id]

    def zones_on(self, floor_id: str) -> list[Zone]:
        """Zones on this floor."""
        return [z for z in self.zones if z.floor == floor_id]

    def queue_zone_ids(self) -> list[str]:
        """Zones where people queue (``reporting.queues``: its zone kinds, and zones by id)."""
        rules = self.reporting.queues
        kinds = set(rules.zone_kinds)
        return [z.id for z in self.zones if z.kind in kinds or z.id in rules.zones]

    def lines_on(self, floor_id: str) -> list[CountingLine]:
        """Counting lines on this floor."""
        return [ln for ln in self.lines if ln.floor == floor_id]

    def links_from(self, camera_id: str) -> list[Link]:
        """Links along which people can walk away from this camera (either end if bidirectional)."""
        return [
            link
            for link in self.topology.links
            if link.from_camera == camera_id or (link.bidirectional and link.to_camera == camera_id)
        ]

    def overlapping(self, camera_id: str) -> list[str]:
        """Ids of cameras whose views overlap this camera's."""
        out = []
        for overlap in self.topology.overlaps:
            a, b = overlap.cameras
            if camera_id in (a, b):
                out.append(b if a == camera_id else a)
        return out
