"""Where people can walk: a graph of the site's zones, doors between them, and entry points.

Two zones on one floor are neighbours when their outlines are within :data:`DOOR_GAP_M` of each
other; the door is the middle of the strip where they face each other. Escalator and lift
zones with the same footprint on two floors are joined by a ride. Walking between two points
follows the cheapest chain of zones (corridors are cheap to pass through, shops are not).
An entrance zone's entry point is where it meets the edge of the floor (the street).

Positions are floor metres; ``floor`` is an index into :attr:`World.floor_ids`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
import shapely.ops

from footfall.errors import UserError
from footfall.site import Site, Zone, ZoneKind

DOOR_GAP_M = 2.5
"""Zones closer than this are connected by a door."""
RIDE_S = 20.0
"""An escalator or lift ride between floors, seconds."""
PASS_THROUGH_COST = {
    ZoneKind.CORRIDOR: 1.0,
    ZoneKind.ENTRANCE: 1.0,
    ZoneKind.ESCALATOR: 1.0,
    ZoneKind.ELEVATOR: 1.5,
    ZoneKind.FOOD_COURT: 1.5,
}
"""Walking cost per metre through a zone of this kind on the way elsewhere (others: 4)."""
STAFF_PASS_THROUGH_COST = 1.0
"""Staff walk through staff-only zones (service corridors) as through a corridor; visitors
never pass through them."""
COUNTER_M = 1.0
"""Visitors keep this far from a staff-only zone in a shop (the tills): the counter between."""
VERTICAL_KINDS = (ZoneKind.ESCALATOR, ZoneKind.ELEVATOR)

Point = tuple[float, float]


def _random_point(shape: shapely.Geometry, rng: np.random.Generator) -> Point:
    """A uniform random point of ``shape`` (up to 50 draws in its bounds; then a point on it)."""
    x0, y0, x1, y1 = shapely.bounds(shape).tolist()
    for _ in range(50):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(shape, x, y):
            return (float(x), float(y))
    x, y = shapely.get_coordinates(shapely.point_on_surface(shape))[0]
    return (float(x), float(y))


class UnreachableZone(UserError, ValueError):
    """The site's zones are not all connected, so simulated people cannot walk between them."""


@dataclass(frozen=True)
class Door:
    to: int
    """Index of the zone this door leads to."""
    here: Point
    """Point just inside this zone, metres."""
    there: Point
    """Point just inside the other zone, metres."""
    ride: bool = False
    """True for an escalator or lift ride to another floor."""
    step_m: float = 0.0
    """Walking cost of taking this door from the middle of this zone (metres; a ride: 24)."""


@dataclass
class World:
    site: Site
    floor_ids: list[str]
    zones: list[Zone]
    zone_floor: list[int]
    inner: list[shapely.Polygon]
    """Each zone's outline shrunk by 0.5 m (where that leaves something), for picking spots."""
    doors: list[list[Door]]
    entrances: list[int]
    """Zones people arrive through (entrances, then car-park lobbies)."""
    entry_points: dict[int, Point] = field(default_factory=dict)
    public: list[shapely.Geometry] = field(default_factory=list)
    """Each zone's :attr:`inner` less the staff-only zones in it (behind a counter, the tills)
    and :data:`COUNTER_M` around them: where visitors pick spots."""
    shop_floor: list[shapely.Geometry] = field(default_factory=list)
    """Each zone's :attr:`public` area less the site's queue zones in it
    (:meth:`Site.queue_zone_ids`): where a shop's floor staff stand (:meth:`work_spot`)."""
    _routes: dict[tuple[int, int, bool], list[Door]] = field(default_factory=dict)

    @classmethod
    def of(cls, site: Site) -> World:
        floor_ids = [f.id for f in site.floors]
        zones = list(site.zones)
        zone_floor = [floor_ids.index(z.floor) for z in zones]
        shapes = [z.shape() for z in zones]
        inner = []
        for s in shapes:
            shrunk = s.buffer(-0.5)
            inner.append(shrunk if not shrunk.is_empty and shrunk.area > 1.0 else s)
        queues = set(site.queue_zone_ids())
        doors: list[list[Door]] = [[] for _ in zones]
        for i, a in enumerate(shapes):
            for j in range(i + 1, len(zones)):
                b = shapes[j]
                if zone_floor[i] == zone_floor[j]:
                    gap = a.distance(b)
                    if gap > DOOR_GAP_M:
                        continue
                    reach = gap / 2 + 1.0
                    strip = a.buffer(reach).intersection(b.buffer(reach))
                    centre = strip.centroid if not strip.is_empty else a.centroid
                    pa = _nearest_inside(inner[i], centre)
                    pb = _nearest_inside(inner[j], centre)
                    doors[i].append(Door(j, pa, pb))
                    doors[j].append(Door(i, pb, pa))
                elif (
                    zones[i].kind in VERTICAL_KINDS
                    and zones[i].kind == zones[j].kind
                    and a.intersects(b)
                ):
                    pa = (a.centroid.x, a.centroid.y)
                    pb = (b.centroid.x, b.centroid.y)
                    doors[i].append(Door(j, pa, pb, ride=True))
                    doors[j].append(Door(i, pb, pa, ride=True))
        for i, zone_doors in enumerate(doors):
            c = shapes[i].centroid
            doors[i] = [
                replace(d, step_m=24.0 if d.ride else c.distance(shapely.Point(d.here)) + 1.0)
                for d in zone_doors
            ]
        entrances = [i for i, z in enumerate(zones) if z.kind == ZoneKind.ENTRANCE]
        entrances += [i for i, z in enumerate(zones) if z.kind == ZoneKind.PARKING]
        world = cls(site, floor_ids, zones, zone_floor, inner, doors, entrances)
        for i, shape in enumerate(inner):
            behind = [
                shapes[j]
                for j, z in enumerate(zones)
                if z.kind == ZoneKind.STAFF_ONLY
                and j != i
                and zone_floor[j] == zone_floor[i]
                and shapes[j].intersects(shape)
            ]
            rest = (
                shape.difference(shapely.union_all(behind).buffer(COUNTER_M)) if behind else shape
            )
            world.public.append(shape if rest.is_empty or rest.area <= 1.0 else rest)
            lanes = [
                shapes[j]
                for j, z in enumerate(zones)
                if z.id in queues
                and j != i
                and zone_floor[j] == zone_floor[i]
                and shapes[j].intersects(shape)
            ]
            public = world.public[i]
            floor_ = shapely.difference(public, shapely.union_all(lanes)) if lanes else public
            small = shapely.is_empty(floor_) or shapely.area(floor_) <= 1.0
            world.shop_floor.append(public if small else floor_)
        for i in entrances:
            world.entry_points[i] = world._entry_point(i)
        return world

    def _entry_point(self, zone: int) -> Point:
        """Where the zone meets the edge of its floor (the street), 0.3 m inside."""
        floor = self.site.floors[self.zone_floor[zone]]
        shape = self.zones[zone].shape()
        edge = shapely.box(0, 0, floor.width_m, floor.depth_m).exterior
        c = shape.centroid
        p = edge.interpolate(edge.project(c))
        q = shapely.Point(
            min(max(p.x, 0.3), floor.width_m - 0.3), min(max(p.y, 0.3), floor.depth_m - 0.3)
        )
        if shape.distance(q) > 1.0:  # the zone is not at the edge: arrive at its middle
            return (c.x, c.y)
        return _nearest_inside(shape, q)

    def zones_of_kind(self, *kinds: ZoneKind) -> list[int]:
        return [i for i, z in enumerate(self.zones) if z.kind in kinds]

    def random_spot(self, zone: int, rng: np.random.Generator, staff: bool = False) -> Point:
        """A random point inside the zone (0.5 m from its edge where possible). Unless
        ``staff``, a point behind a counter (a staff-only zone in the zone, and
        :data:`COUNTER_M` around it) is moved to the nearest point in front of it: the same
        draws as without the counter, so the counter moves spots without changing the crowd."""
        return self._in_front(zone, *_random_point(self.inner[zone], rng), staff)

    def work_spot(self, zone: int, rng: np.random.Generator) -> Point:
        """A random point of the zone's :attr:`shop_floor`, where its staff work: not in the
        checkout lanes where shoppers queue, nor behind a counter (the cashiers')."""
        return _random_point(self.shop_floor[zone], rng)

    def _in_front(self, zone: int, x: float, y: float, staff: bool) -> Point:
        public = self.public[zone]
        if staff or public is self.inner[zone] or shapely.contains_xy(public, x, y):
            return (x, y)
        q = shapely.ops.nearest_points(public, shapely.Point(x, y))[0]
        return (q.x, q.y)

    def route(self, start: int, goal: int, staff: bool = False) -> list[Door]:
        """The cheapest chain of doors from zone ``start`` to zone ``goal`` (empty: same zone).

        Visitors never pass through a staff-only zone (a service corridor, the tills) on the way
        elsewhere; ``staff`` do, as cheaply as through a corridor (the back-of-house way).

        Raises :class:`UnreachableZone` (a ``UserError`` and a ``ValueError``) when the goal
        cannot be reached from the start.
        """
        key = (start, goal, staff)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._route(start, goal, staff)
        return found

    def _route(self, start: int, goal: int, staff: bool) -> list[Door]:
        if start == goal:
            return []
        best = {start: 0.0}
        back: dict[int, tuple[int, Door]] = {}
        heap = [(0.0, start)]
        while heap:
            cost, zone = heapq.heappop(heap)
            if zone == goal:
                break
            if cost > best.get(zone, float("inf")):
                continue
            kind = self.zones[zone].kind
            if zone == start:
                factor = 1.0
            elif kind == ZoneKind.STAFF_ONLY:
                if not staff:
                    continue
                factor = STAFF_PASS_THROUGH_COST
            else:
                factor = PASS_THROUGH_COST.get(kind, 4.0)
            for door in self.doors[zone]:
                new = cost + door.step_m * factor
                if new < best.get(door.to, float("inf")):
                    best[door.to] = new
                    back[door.to] = (zone, door)
                    heapq.heappush(heap, (new, door.to))
        if goal not in back:
            raise UnreachableZone(
                f"site {self.site.id!r} cannot be simulated: its zones are not connected, so "
                f"people cannot walk from zone {self.zones[start].id!r} to "
                f"{self.zones[goal].id!r}; use a site whose zones connect (e.g. the default "
                "configs/sites/two_floor_mall.yaml) or add the missing links (zones connect "
                f"where they are within {DOOR_GAP_M:g} m of a neighbour, floors by escalator or "
                "lift zones with the same footprint)"
            )
        path: list[Door] = []
        zone = goal
        while zone != start:
            prev, door = back[zone]
            path.append(door)
            zone = prev
        return path[::-1]


def _nearest_inside(shape: shapely.Polygon, point: shapely.Point) -> Point:
    if shapely.contains(shape, point):
        return (point.x, point.y)
    p = shape.exterior.interpolate(shape.exterior.project(point))
    c = shape.centroid
    # step 0.3 m from the outline towards the middle, so the point is inside
    dx, dy = c.x - p.x, c.y - p.y
    d = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    k = min(0.3, d) / d
    return (p.x + dx * k, p.y + dy * k)
