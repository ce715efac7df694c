"""Cross-object checks: unique ids, references, geometry against the floor, topology.

Each ``verify_*`` function takes :class:`SiteParts` and returns the problems it finds (never
raises). ``SiteParts`` holds the objects that validated on their own, keyed by their index in the
file, plus the ids of *every* item, valid or not, so that the checks can still run, without
false "unknown id" reports, when other parts of the file are broken.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import shapely

from footfall.site.camera import Camera
from footfall.site.errors import Loc, Problem
from footfall.site.floor import Floor
from footfall.site.line import CountingLine
from footfall.site.topology import Link, Overlap
from footfall.site.zone import Zone

LINE_ZONE_TOLERANCE_M = 1.0
"""A counting line must pass within this many metres of the zone it belongs to."""

COLLECTIONS = ("floors", "cameras", "zones", "lines")


@dataclass
class SiteParts:
    """The validated pieces of a site (by index in the file) and the ids of all items."""

    floors: dict[int, Floor] = field(default_factory=dict)
    cameras: dict[int, Camera] = field(default_factory=dict)
    zones: dict[int, Zone] = field(default_factory=dict)
    lines: dict[int, CountingLine] = field(default_factory=dict)
    links: dict[int, Link] = field(default_factory=dict)
    overlaps: dict[int, Overlap] = field(default_factory=dict)
    ids: dict[str, dict[int, str]] = field(default_factory=dict)
    """collection name → {index: id} for every item that has a text id."""

    @classmethod
    def of(
        cls,
        floors: Sequence[Floor],
        cameras: Sequence[Camera],
        zones: Sequence[Zone],
        lines: Sequence[CountingLine],
        links: Sequence[Link] = (),
        overlaps: Sequence[Overlap] = (),
    ) -> SiteParts:
        """Parts of a fully validated site."""
        parts = cls(
            dict(enumerate(floors)),
            dict(enumerate(cameras)),
            dict(enumerate(zones)),
            dict(enumerate(lines)),
            dict(enumerate(links)),
            dict(enumerate(overlaps)),
        )
        parts.ids = {
            "floors": {i: f.id for i, f in parts.floors.items()},
            "cameras": {i: c.id for i, c in parts.cameras.items()},
            "zones": {i: z.id for i, z in parts.zones.items()},
            "lines": {i: ln.id for i, ln in parts.lines.items()},
        }
        return parts

    def known(self, collection: str) -> set[str]:
        return set(self.ids.get(collection, {}).values())

    def floor_by_id(self) -> dict[str, Floor]:
        out: dict[str, Floor] = {}
        for floor in self.floors.values():
            out.setdefault(floor.id, floor)
        return out

    def zone_by_id(self) -> dict[str, Zone]:
        out: dict[str, Zone] = {}
        for zone in self.zones.values():
            out.setdefault(zone.id, zone)
        return out


def _names(items: Sequence[str]) -> str:
    quoted = [f"'{s}'" for s in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _listing(ids: Iterable[str], limit: int = 12) -> str:
    ordered = sorted(set(ids))
    shown = ", ".join(ordered[:limit])
    return shown + (f", … and {len(ordered) - limit} more" if len(ordered) > limit else "")


def unknown_reference(kind: str, ref: str, valid: Iterable[str], section: str) -> tuple[str, str]:
    """Message and fix for a reference to an id that does not exist."""
    choices = sorted(set(valid))
    close = difflib.get_close_matches(ref, choices, n=3, cutoff=0.6)
    message = f"unknown {kind} '{ref}'"
    if close:
        message += f" — did you mean {_names(close)}?"
    if choices:
        fix = f"use one of the {kind} ids defined under '{section}': {_listing(choices)}"
    else:
        fix = f"no {kind}s are defined; add one under '{section}'"
    return message, fix


def verify_unique_ids(parts: SiteParts) -> list[Problem]:
    """Ids are unique within floors, cameras, zones and lines."""
    problems = []
    for collection in COLLECTIONS:
        first: dict[str, int] = {}
        for index, ident in sorted(parts.ids.get(collection, {}).items()):
            if ident in first:
                problems.append(
                    Problem.at(
                        (collection, index, "id"),
                        f"duplicate id '{ident}' (already used by {collection}[{first[ident]}])",
                        "give every entry in this list its own id",
                    )
                )
            else:
                first[ident] = index
    return problems


def verify_floor_references(parts: SiteParts) -> list[Problem]:
    """Every camera, zone and line names an existing floor."""
    floors = parts.known("floors")
    problems = []
    items: list[tuple[str, dict[int, Camera] | dict[int, Zone] | dict[int, CountingLine]]] = [
        ("cameras", parts.cameras),
        ("zones", parts.zones),
        ("lines", parts.lines),
    ]
    for collection, objects in items:
        for index, obj in objects.items():
            if obj.floor not in floors:
                message, fix = unknown_reference("floor", obj.floor, floors, "floors")
                problems.append(Problem.at((collection, index, "floor"), message, fix))
    return problems


def verify_line_zones(parts: SiteParts) -> list[Problem]:
    """A line's zone exists, is on the line's floor and lies near the line."""
    zones = parts.known("zones")
    floors = parts.known("floors")
    by_id = parts.zone_by_id()
    problems = []
    for index, line in parts.lines.items():
        if line.zone is None:
            continue
        loc: Loc = ("lines", index, "zone")
        if line.zone not in zones:
            message, fix = unknown_reference("zone", line.zone, zones, "zones")
            problems.append(Problem.at(loc, message, fix))
            continue
        zone = by_id.get(line.zone)
        if zone is None or zone.floor not in floors or line.floor not in floors:
            continue  # unknown floors are reported by verify_floor_references
        if zone.floor != line.floor:
            problems.append(
                Problem.at(
                    loc,
                    f"zone '{zone.id}' is on floor '{zone.floor}' but line '{line.id}' is on "
                    f"floor '{line.floor}'",
                    "put the line and its zone on the same floor",
                )
            )
            continue
        distance = zone.shape().distance(shapely.LineString([line.a, line.b]))
        if distance > LINE_ZONE_TOLERANCE_M:
            problems.append(
                Problem.at(
                    loc,
                    f"line '{line.id}' is {distance:.1f} m away from its zone '{zone.id}'",
                    f"draw the line across the zone (within {LINE_ZONE_TOLERANCE_M:g} m), "
                    "or name the right zone",
                )
            )
    return problems


def _outside(floor: Floor, points: Sequence[tuple[float, float]]) -> int | None:
    for k, (x, y) in enumerate(points):
        if not floor.contains(x, y):
            return k
    return None


def _extent(floor: Floor) -> str:
    return f"0–{floor.width_m:g} m × 0–{floor.depth_m:g} m"


def verify_zones_on_floor(parts: SiteParts) -> list[Problem]:
    """Zone polygons lie inside their floor's extent."""
    floors = parts.floor_by_id()
    problems = []
    for index, zone in parts.zones.items():
        floor = floors.get(zone.floor)
        k = None if floor is None else _outside(floor, zone.polygon)
        if floor is not None and k is not None:
            x, y = zone.polygon[k]
            problems.append(
                Problem.at(
                    ("zones", index, "polygon", k),
                    f"zone '{zone.id}' point ({x:g}, {y:g}) is outside floor '{floor.id}' "
                    f"({_extent(floor)})",
                    "keep zone corners within 0 ≤ x ≤ width_m and 0 ≤ y ≤ depth_m of the floor",
                )
            )
    return problems


def verify_lines_on_floor(parts: SiteParts) -> list[Problem]:
    """Counting-line end points lie inside their floor's extent."""
    floors = parts.floor_by_id()
    problems = []
    for index, line in parts.lines.items():
        floor = floors.get(line.floor)
        if floor is None:
            continue
        for end in ("a", "b"):
            x, y = getattr(line, end)
            if not floor.contains(x, y):
                problems.append(
                    Problem.at(
                        ("lines", index, end),
                        f"line '{line.id}' end {end} ({x:g}, {y:g}) is outside floor "
                        f"'{floor.id}' ({_extent(floor)})",
                        "keep line ends within 0 ≤ x ≤ width_m and 0 ≤ y ≤ depth_m of the floor",
                    )
                )
    return problems


def verify_cameras_on_floor(parts: SiteParts) -> list[Problem]:
    """The floor side of every homography correspondence lies inside the camera's floor."""
    floors = parts.floor_by_id()
    problems = []
    for index, camera in parts.cameras.items():
        floor = floors.get(camera.floor)
        if floor is None:
            continue
        points = [p.floor for p in camera.calibration.points]
        k = _outside(floor, points)
        if k is not None:
            x, y = points[k]
            problems.append(
                Problem.at(
                    ("cameras", index, "homography", "points", k, "floor"),
                    f"camera '{camera.id}' floor point ({x:g}, {y:g}) is outside floor "
                    f"'{floor.id}' ({_extent(floor)})",
                    "floor coordinates are metres from the floor's corner, 0 ≤ x ≤ width_m and "
                    "0 ≤ y ≤ depth_m",
                )
            )
    return problems


def verify_links(parts: SiteParts) -> list[Problem]:
    """Links join two different existing cameras, at most once per pair and direction."""
    cameras = parts.known("cameras")
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for index, link in parts.links.items():
        base: Loc = ("topology", "links", index)
        bad = False
        for key, ref in (("from", link.from_camera), ("to", link.to_camera)):
            if ref not in cameras:
                message, fix = unknown_reference("camera", ref, cameras, "cameras")
                problems.append(Problem.at((*base, key), message, fix))
                bad = True
        if bad:
            continue
        if link.from_camera == link.to_camera:
            problems.append(
                Problem.at(
                    (*base, "to"),
                    f"link from camera '{link.from_camera}' to itself",
                    "a link joins two different cameras; remove it",
                )
            )
            continue
        directions = [(link.from_camera, link.to_camera)]
        if link.bidirectional:
            directions.append((link.to_camera, link.from_camera))
        for direction in directions:
            if direction in seen:
                problems.append(
                    Problem.at(
                        base,
                        f"duplicate link {direction[0]} → {direction[1]} (also given by "
                        f"topology.links[{seen[direction]}])",
                        "keep one link per pair of cameras (bidirectional: true covers both "
                        "directions)",
                    )
                )
                break
        for direction in directions:
            seen.setdefault(direction, index)
    return problems


def verify_overlaps(parts: SiteParts) -> list[Problem]:
    """Overlaps pair two different existing cameras, each pair once."""
    cameras = parts.known("cameras")
    problems = []
    seen: dict[frozenset[str], int] = {}
    for index, overlap in parts.overlaps.items():
        base: Loc = ("topology", "overlaps", index, "cameras")
        bad = False
        for k, ref in enumerate(overlap.cameras):
            if ref not in cameras:
                message, fix = unknown_reference("camera", ref, cameras, "cameras")
                problems.append(Problem.at((*base, k), message, fix))
                bad = True
        if bad:
            continue
        pair = frozenset(overlap.cameras)
        if len(pair) == 1:
            problems.append(
                Problem.at(base, "a camera cannot overlap itself", "name two different cameras")
            )
        elif pair in seen:
            problems.append(
                Problem.at(
                    base,
                    f"duplicate overlap (also given by topology.overlaps[{seen[pair]}])",
                    "list each pair of cameras once",
                )
            )
        else:
            seen[pair] = index
    return problems


CHECKS: tuple[Callable[[SiteParts], list[Problem]], ...] = (
    verify_unique_ids,
    verify_floor_references,
    verify_line_zones,
    verify_zones_on_floor,
    verify_lines_on_floor,
    verify_cameras_on_floor,
    verify_links,
    verify_overlaps,
)


def verify_all(parts: SiteParts) -> list[Problem]:
    """Run every cross-object check."""
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(parts))
    return problems
