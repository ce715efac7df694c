"""Simulated staff: cashiers work the tills (a staff-only zone in the checkout), breaks are in
the back of house, visitors stay in front of the counter, and staff plans have their own random
stream (so how staff work does not change a seed's crowd)."""

from __future__ import annotations

import numpy as np
import shapely

from footfall.simulate import scenario, with_overrides
from footfall.simulate.people import Planner, positions
from footfall.simulate.sim import STAFF_STREAM
from footfall.simulate.world import COUNTER_M, World
from footfall.site import ZoneKind, load_site

SCENARIO = with_overrides(scenario("moderate"), duration_s=3600.0, visitors_per_day=1500, staff=40)
SITE = load_site(SCENARIO.site)
WORLD = World.of(SITE)
ZONE = {z.id: i for i, z in enumerate(WORLD.zones)}
TILLS = SITE.zones[ZONE["l0-tills"]].shape()


def _people(seed: int, staff: int = SCENARIO.staff) -> list:
    sc = with_overrides(SCENARIO, staff=staff)
    planner = Planner(
        WORLD, sc, np.random.default_rng(seed), np.random.default_rng([seed, STAFF_STREAM])
    )
    return planner.people()


def _where(person, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return positions(person.plan.arrays(), times)


def test_cashiers_work_the_tills_and_take_breaks_in_the_back_of_house() -> None:
    people = _people(5)
    staff = [p for p in people if p.role == "staff"]
    back = [
        SITE.zones[i].shape()
        for i in WORLD.zones_of_kind(ZoneKind.STAFF_ONLY)
        if i != ZONE["l0-tills"]
    ]
    cashiers = 0
    for p in staff:
        t = np.asarray(p.plan.t)
        x, y = np.asarray(p.plan.x), np.asarray(p.plan.y)
        at_tills = shapely.contains_xy(TILLS, x, y)
        if at_tills[0]:  # starts at a till: a cashier
            cashiers += 1
            stints = t[1:][at_tills[1:]]
            assert len(stints) > 10  # serving: small moves at the till
        in_back = np.zeros(len(x), dtype=bool)
        for shape in back:
            in_back |= shapely.contains_xy(shape, x, y)
        if t[-1] - t[0] > 3600 + 1800:  # a shift with at least one break
            assert in_back.any(), "breaks are taken in the back of house"
        # no break in the food court or a restroom (walking through is fine)
        still = (np.diff(t) > 0) & (np.diff(x) == 0) & (np.diff(y) == 0)
        for i in WORLD.zones_of_kind(ZoneKind.FOOD_COURT, ZoneKind.RESTROOM):
            shape = SITE.zones[i].shape()
            here = still & (np.asarray(p.plan.floor)[:-1] == WORLD.zone_floor[i])
            assert not shapely.contains_xy(shape, x[:-1][here], y[:-1][here]).any()
    assert cashiers >= 1


def test_visitors_stay_in_front_of_the_counter() -> None:
    keep_out = TILLS.buffer(COUNTER_M - 0.05)
    visitors = [p for p in _people(5) if p.role == "visitor" and p.group == p.index]
    stops = 0
    for p in visitors:
        t = np.asarray(p.plan.t)
        x, y = np.asarray(p.plan.x), np.asarray(p.plan.y)
        # where they stand still (two waypoints at one spot) is never behind the counter
        still = (np.diff(t) > 0) & (np.diff(x) == 0) & (np.diff(y) == 0)
        still &= np.asarray(p.plan.floor)[:-1] == WORLD.zone_floor[ZONE["l0-tills"]]
        stops += int(still.sum())
        assert not shapely.contains_xy(keep_out, x[:-1][still], y[:-1][still]).any()
    assert stops > 100


def test_staff_do_not_change_the_crowd() -> None:
    a = [p for p in _people(9, staff=2) if p.role == "visitor"]
    b = [p for p in _people(9, staff=12) if p.role == "visitor"]
    assert len(a) == len(b) > 0
    assert all(p.plan.t == q.plan.t and p.plan.x == q.plan.x for p, q in zip(a, b, strict=True))


def test_shop_floor_staff_stand_outside_the_checkout_lanes() -> None:
    # the supermarket's staff who are not cashiers stand a while at spots on its floor
    # (stocking, advising), never in the checkout lanes, where shoppers queue
    lane = SITE.zones[ZONE["l0-checkout"]].shape()
    store = SITE.zones[ZONE["l0-supermarket"]].shape()
    floor_stops = 0
    for p in (p for p in _people(5) if p.role == "staff"):
        t = np.asarray(p.plan.t)
        x, y = np.asarray(p.plan.x), np.asarray(p.plan.y)
        if shapely.contains_xy(TILLS, x[0], y[0]):
            continue  # a cashier
        still = (np.diff(t) > 60) & (np.diff(x) == 0) & (np.diff(y) == 0)
        still &= np.asarray(p.plan.floor)[:-1] == WORLD.zone_floor[ZONE["l0-supermarket"]]
        floor_stops += int(shapely.contains_xy(store, x[:-1][still], y[:-1][still]).sum())
        assert not shapely.contains_xy(lane, x[:-1][still], y[:-1][still]).any()
    assert floor_stops > 10
