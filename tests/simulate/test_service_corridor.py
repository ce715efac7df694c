"""The simulated mall's back of house: staff walk to their breaks in the loading bay through
the service corridor behind the supermarket (staff only, seen by its security camera), and
visitors never set foot in the back of house (their routes never pass through a staff-only
zone)."""

from __future__ import annotations

import numpy as np
import shapely

from footfall.simulate import scenario, with_overrides
from footfall.simulate.cameras import CameraView
from footfall.simulate.people import Planner, positions
from footfall.simulate.sim import STAFF_STREAM
from footfall.simulate.world import World
from footfall.site import ZoneKind, load_site

SCENARIO = with_overrides(scenario("moderate"), duration_s=3600.0, visitors_per_day=3000, staff=40)
SITE = load_site(SCENARIO.site)
WORLD = World.of(SITE)
ZONE = {z.id: i for i, z in enumerate(WORLD.zones)}
CORRIDOR = SITE.zones[ZONE["l0-service-corridor"]].shape()
CAMERA = next(c for c in SITE.cameras if c.id == "l0-service-corridor")


def _people() -> list:
    planner = Planner(
        WORLD, SCENARIO, np.random.default_rng(3), np.random.default_rng([3, STAFF_STREAM])
    )
    return planner.people()


def _track(person, step_s: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(person.plan.t[0], person.plan.end, step_s)
    return positions(person.plan.arrays(), t)


def test_staff_take_the_service_corridor_and_its_camera_sees_them() -> None:
    people = _people()
    l0 = WORLD.floor_ids.index("l0")
    view = CameraView.of(0, CAMERA, l0, 0.0, "run", "node")
    in_corridor = seen = 0
    for p in people:
        if p.role != "staff":
            continue
        fl, x, y = _track(p)
        here = (fl == l0) & shapely.contains_xy(CORRIDOR.buffer(-0.3), x, y)
        in_corridor += int(here.any())
        seen += int(view.sees(fl, x, y)[here].sum())
    assert in_corridor >= 3  # the supermarket's staff on their way to and from breaks
    assert seen > 100


def test_visitors_never_pass_through_staff_only_zones() -> None:
    people = [p for p in _people() if p.role == "visitor"]
    staff_only = [
        (WORLD.zone_floor[i], SITE.zones[i].shape().buffer(-0.3))
        for i in WORLD.zones_of_kind(ZoneKind.STAFF_ONLY)
        if SITE.zones[i].id != "l0-tills"  # a shopper may cut across the thin counter strip
    ]
    assert len(staff_only) == 3
    assert len(people) > 300
    for p in people:
        fl, x, y = _track(p)
        for floor, shape in staff_only:
            on = fl == floor
            assert not shapely.contains_xy(shape, x[on], y[on]).any()
    # and a route a visitor could shorten through the corridor goes round it
    route = WORLD.route(ZONE["l0-supermarket"], ZONE["l0-loading-bay"])
    assert all(WORLD.zones[d.to].kind != ZoneKind.STAFF_ONLY for d in route[:-1])
    staff_route = WORLD.route(ZONE["l0-supermarket"], ZONE["l0-loading-bay"], staff=True)
    assert ZONE["l0-service-corridor"] in [d.to for d in staff_route]
