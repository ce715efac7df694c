"""Who comes, when, and where they go: plans of visitors, groups, returning visitors and staff.

A plan is a list of waypoints (time in seconds from the window start, floor index, x, y in
metres); people walk in straight lines between waypoints and stand still between two waypoints
at the same spot. A segment can be hidden (an escalator ride, the time outside before coming
back): nobody can see the person there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from footfall.simulate.scenarios import Scenario
from footfall.simulate.world import RIDE_S, Point, World
from footfall.site import ZoneKind

OPEN_HOUR, CLOSE_HOUR = 9.0, 21.0
WARM_UP_S = 5400.0
"""People who arrived up to this long before the window may still be inside when it starts."""

DWELL_MEDIAN_S = {
    ZoneKind.STORE: 300.0,
    ZoneKind.FOOD_COURT: 1200.0,
    ZoneKind.CHECKOUT: 150.0,
    ZoneKind.RESTROOM: 180.0,
    ZoneKind.OTHER: 1500.0,
}
NEARBY_M = 150.0
"""Preference for nearby goals: a goal this much further away is e times less likely."""
GOAL_WEIGHT = {
    ZoneKind.STORE: 1.0,
    ZoneKind.FOOD_COURT: 0.8,
    ZoneKind.RESTROOM: 0.2,
    ZoneKind.OTHER: 0.15,
}


def arrival_intensity(hour: np.ndarray) -> np.ndarray:
    """Relative arrivals per hour of the day: a lunch and an after-work peak, 9:00-21:00."""
    lunch = np.exp(-0.5 * ((hour - 13.0) / 1.5) ** 2)
    evening = 1.2 * np.exp(-0.5 * ((hour - 17.5) / 1.5) ** 2)
    open_ = (hour >= OPEN_HOUR) & (hour < CLOSE_HOUR - 0.5)
    return np.where(open_, 0.3 + lunch + evening, 0.0)


@dataclass
class Plan:
    """One person's waypoints (see the module docstring)."""

    t: list[float] = field(default_factory=list)
    floor: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    visible: list[bool] = field(default_factory=list)
    """visible[i]: the segment from waypoint i to i+1 can be seen."""

    def add(self, t: float, floor: int, p: Point, visible_before: bool = True) -> None:
        if self.visible:
            self.visible[-1] = visible_before
        self.t.append(t)
        self.floor.append(floor)
        self.x.append(p[0])
        self.y.append(p[1])
        self.visible.append(True)

    @property
    def end(self) -> float:
        return self.t[-1]

    @property
    def here(self) -> Point:
        return (self.x[-1], self.y[-1])

    def goto(self, p: Point, speed: float, floor: int | None = None) -> None:
        d = math.dist(self.here, p)
        self.add(self.end + d / speed, self.floor[-1] if floor is None else floor, p)

    def stay(self, seconds: float) -> None:
        self.add(self.end + seconds, self.floor[-1], self.here)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.t, dtype=np.float64),
            np.asarray(self.floor, dtype=np.int64),
            np.asarray(self.x, dtype=np.float64),
            np.asarray(self.y, dtype=np.float64),
            np.asarray(self.visible, dtype=bool),
        )


@dataclass
class Person:
    """One simulated person: a true identity the stitcher should recover."""

    index: int
    role: str
    """visitor or staff"""
    group: int
    """Index of the person's group (their own index when alone)."""
    plan: Plan
    visits: int = 1
    """How many times the person enters the site in the window (2 for a returning visitor)."""


def positions(
    plan_arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    times: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floor index (-1: nowhere to be seen), x and y of a plan at ``times`` (seconds)."""
    t, floor, x, y, visible = plan_arrays
    i = np.searchsorted(t, times, side="right") - 1
    inside = (i >= 0) & (i < len(t) - 1)
    i = np.clip(i, 0, max(len(t) - 2, 0))
    if len(t) < 2:
        return np.full(len(times), -1), np.zeros(len(times)), np.zeros(len(times))
    span = np.maximum(t[i + 1] - t[i], 1e-9)
    f = np.clip((times - t[i]) / span, 0.0, 1.0)
    px = x[i] + (x[i + 1] - x[i]) * f
    py = y[i] + (y[i + 1] - y[i]) * f
    fl = np.where(inside & visible[i], floor[i], -1)
    return fl, px, py


class Planner:
    """Makes the plans of one scenario on one site (deterministic for a seeded generator)."""

    def __init__(
        self,
        world: World,
        scenario: Scenario,
        rng: np.random.Generator,
        staff_rng: np.random.Generator | None = None,
    ) -> None:
        self.world = world
        self.scenario = scenario
        self.rng = rng
        self.staff_rng = rng if staff_rng is None else staff_rng
        self.goals = [i for i, z in enumerate(world.zones) if z.kind in GOAL_WEIGHT]
        self.goal_w = np.array([GOAL_WEIGHT[world.zones[i].kind] for i in self.goals])
        self.goal_xy = np.array(
            [
                (world.zones[i].shape().centroid.x, world.zones[i].shape().centroid.y)
                for i in self.goals
            ]
        ).reshape(-1, 2)
        self._goal_p: dict[int, np.ndarray] = {}
        ew = np.array(
            [1.0 if world.zones[i].kind == ZoneKind.ENTRANCE else 0.4 for i in world.entrances]
        )
        self.entrance_p = ew / ew.sum()
        self.corridors = world.zones_of_kind(ZoneKind.CORRIDOR)
        self.checkouts = world.zones_of_kind(ZoneKind.CHECKOUT)
        self.restrooms = world.zones_of_kind(ZoneKind.RESTROOM)
        self.food = world.zones_of_kind(ZoneKind.FOOD_COURT)

    def goal_p(self, entrance: int) -> np.ndarray:
        """Where people arriving through ``entrance`` go: by kind, and mostly nearby (a mall
        of several wings is not crossed end to end for one shop)."""
        p = self._goal_p.get(entrance)
        if p is None:
            x, y = self.world.entry_points[entrance]
            d = np.hypot(self.goal_xy[:, 0] - x, self.goal_xy[:, 1] - y)
            w = self.goal_w * np.exp(-d / NEARBY_M)
            p = self._goal_p[entrance] = w / w.sum()
        return p

    # ------------------------------------------------------------------ arrivals

    def arrival_times(self) -> np.ndarray:
        """Arrival times of parties (seconds from the window start), sorted."""
        s = self.scenario
        lo_h = max(OPEN_HOUR, s.start_hour - WARM_UP_S / 3600.0)
        hi_h = s.start_hour + s.duration_s / 3600.0
        grid = np.linspace(OPEN_HOUR, CLOSE_HOUR, 2000)
        day = np.trapezoid(arrival_intensity(grid), grid)
        hours = np.linspace(lo_h, hi_h, 2000)
        lam = arrival_intensity(hours)
        share = float(np.trapezoid(lam, hours) / day) if hi_h > lo_h else 0.0
        people = s.visitors_per_day * share
        gf = s.group_fraction
        group_party = gf / (3.0 - 2.0 * gf) if gf < 1 else 1.0
        mean_party = 1.0 + 2.0 * group_party
        parties = int(self.rng.poisson(people / mean_party))
        cdf = np.concatenate([[0.0], np.cumsum((lam[1:] + lam[:-1]) / 2 * np.diff(hours))])
        if parties == 0 or cdf[-1] <= 0:
            return np.zeros(0)
        u = self.rng.uniform(0, cdf[-1], parties)
        h = np.interp(u, cdf, hours)
        return np.sort((h - s.start_hour) * 3600.0)

    # ------------------------------------------------------------------ plans

    def _speed(self) -> float:
        return float(np.clip(self.rng.normal(1.25, 0.2), 0.7, 1.8))

    def _dwell(self, zone: int) -> float:
        median = DWELL_MEDIAN_S.get(self.world.zones[zone].kind, 120.0)
        return float(median * math.exp(self.rng.normal(0.0, 0.5)))

    def walk(
        self, plan: Plan, zone: int, goal: int, target: Point, speed: float, staff: bool = False
    ) -> None:
        """Walk from the plan's position (in ``zone``) to ``target`` in ``goal`` (``staff``
        may take staff-only passages: :meth:`World.route`)."""
        for door in self.world.route(zone, goal, staff):
            plan.goto(door.here, speed)
            if door.ride:
                plan.add(plan.end + RIDE_S, self.world.zone_floor[door.to], door.there, False)
            else:
                plan.goto(door.there, speed)
        plan.goto(target, speed)

    def wander(
        self,
        plan: Plan,
        zone: int,
        seconds: float,
        speed: float,
        staff: bool = False,
        at_work: bool = False,
    ) -> None:
        """Browse in a zone for about ``seconds``: a few spots with pauses (``at_work``: a
        shop's staff on its floor, :meth:`World.work_spot`)."""
        spots = 1 + min(3, int(seconds // 120))
        pause = seconds / spots
        for _ in range(spots):
            if at_work:
                spot = self.world.work_spot(zone, self.rng)
            else:
                spot = self.world.random_spot(zone, self.rng, staff)
            plan.goto(spot, speed * 0.6)
            plan.stay(pause * self.rng.uniform(0.6, 1.0))

    def visit(self, plan: Plan, start: float, speed: float, goals: int) -> int:
        """One visit from an entrance: arrive, visit ``goals`` zones, leave; returns the exit."""
        w = self.world
        entrance = w.entrances[self.rng.choice(len(w.entrances), p=self.entrance_p)]
        plan.add(start, w.zone_floor[entrance], w.entry_points[entrance], visible_before=False)
        zone = entrance
        seen: set[int] = set()
        for _ in range(goals):
            goal = self.goals[self.rng.choice(len(self.goals), p=self.goal_p(entrance))]
            if goal in seen:
                continue
            seen.add(goal)
            if self.corridors and self.rng.random() < 0.4:  # window shopping on the way
                corridor = self.corridors[self.rng.integers(len(self.corridors))]
                if w.zone_floor[corridor] == w.zone_floor[zone]:
                    self.walk(plan, zone, corridor, w.random_spot(corridor, self.rng), speed)
                    plan.stay(self.rng.uniform(5, 60))
                    zone = corridor
            self.walk(plan, zone, goal, w.random_spot(goal, self.rng), speed)
            self.wander(plan, goal, self._dwell(goal), speed)
            zone = goal
            for checkout in self.checkouts:  # pay on the way out of the store it is in
                if w.zones[goal].shape().contains(w.zones[checkout].shape()):
                    self.walk(plan, zone, checkout, w.random_spot(checkout, self.rng), speed)
                    plan.stay(self._dwell(checkout))
                    zone = checkout
        if self.rng.random() < 0.6:
            exit_ = entrance
        else:
            exit_ = w.entrances[self.rng.choice(len(w.entrances), p=self.entrance_p)]
        self.walk(plan, zone, exit_, w.entry_points[exit_], speed)
        return exit_

    def visitor(self, index: int, arrival: float) -> Person:
        plan = Plan()
        speed = self._speed()
        goals = 1 + min(4, int(self.rng.poisson(1.5)))
        self.visit(plan, arrival, speed, goals)
        visits = 1
        if self.rng.random() < self.scenario.return_fraction:
            back = plan.end + self.rng.uniform(1200, 5400)
            self.visit(plan, back, speed, 1 + int(self.rng.poisson(0.5)))
            visits = 2
        return Person(index, "visitor", index, plan, visits)

    def follower(self, index: int, leader: Person) -> Person:
        """A group member: the leader's plan, a step to the side and a moment behind."""
        dx, dy = self.rng.uniform(-0.7, 0.7, 2)
        lag = float(self.rng.uniform(0.3, 1.5))
        p = leader.plan
        plan = Plan(
            [t + lag for t in p.t],
            list(p.floor),
            [x + dx for x in p.x],
            [y + dy for y in p.y],
            list(p.visible),
        )
        return Person(index, "visitor", leader.index, plan, leader.visits)

    def staff_member(self, index: int) -> Person:
        """Staff: at work from before the window to after it, with breaks.

        Staff of a checkout work the tills (a staff-only zone in the checkout, where the site
        has one): a cashier keeps to one till for a stint, with small moves around it; other
        staff move about their store's floor, standing a while at each spot (stocking a shelf,
        advising), outside its checkout lanes, where shoppers queue. Breaks are taken in the
        back of house (the site's staff-only zones away from the shop floor: staff room,
        offices, loading bay; on the staff member's floor where there is one), as in a real
        mall; where the site has none, in the food court or a restroom."""
        w = self.world
        stores = w.zones_of_kind(ZoneKind.STORE, ZoneKind.CHECKOUT)
        home = stores[self.rng.integers(len(stores))]
        floor = w.zone_floor[home]
        staff_only = w.zones_of_kind(ZoneKind.STAFF_ONLY)
        tills = [
            z
            for z in staff_only
            if w.zones[home].kind == ZoneKind.CHECKOUT
            and w.zone_floor[z] == floor
            and w.zones[z].shape().intersects(w.zones[home].shape())
        ]
        work = tills[0] if tills else home
        back = [
            z
            for z in staff_only
            if not any(
                w.zones[z].shape().intersects(w.zones[s].shape())
                for s in stores
                if w.zone_floor[s] == w.zone_floor[z]
            )
        ]
        breaks = [z for z in back if w.zone_floor[z] == floor] or back
        breaks = breaks or self.restrooms + self.food
        plan = Plan()
        speed = self._speed()
        t = -float(self.rng.uniform(0, 1800))

        def at_work() -> Point:
            return (
                w.random_spot(work, self.rng, staff=True) if tills else w.work_spot(work, self.rng)
            )

        plan.add(t, floor, at_work(), visible_before=False)
        end = self.scenario.duration_s + 600
        while plan.end < end:
            stint = float(self.rng.uniform(1200, 3600))
            if tills:
                self.work_till(plan, stint)
            else:
                self.wander(plan, home, stint, speed, at_work=True)
            if not breaks:
                continue
            spot = breaks[self.rng.integers(len(breaks))]
            self.walk(plan, work, spot, w.random_spot(spot, self.rng, staff=True), speed, True)
            self.wander(plan, spot, float(self.rng.uniform(300, 1200)), speed, staff=True)
            self.walk(plan, spot, work, at_work(), speed, True)
        return Person(index, "staff", index, plan)

    def work_till(self, plan: Plan, seconds: float) -> None:
        """A cashier's stint: at the till where the plan is, shifting by up to 0.3 m now and
        then (serving, reaching), for about ``seconds``."""
        x0, y0 = plan.here
        end = plan.end + seconds
        while plan.end < end:
            plan.stay(float(self.rng.uniform(20, 90)))
            dx, dy = self.rng.uniform(-0.3, 0.3, 2)
            plan.goto((x0 + float(dx), y0 + float(dy)), 0.5)

    def people(self) -> list[Person]:
        """Everyone in the window: staff first, then parties in arrival order."""
        # staff plans draw from their own stream, so how staff work does not reshuffle the crowd
        crowd_rng, self.rng = self.rng, self.staff_rng
        try:
            out = [self.staff_member(i) for i in range(self.scenario.staff)]
        finally:
            self.rng = crowd_rng
        gf = self.scenario.group_fraction
        group_party = gf / (3.0 - 2.0 * gf) if gf < 1 else 1.0
        for arrival in self.arrival_times():
            leader = self.visitor(len(out), float(arrival))
            out.append(leader)
            if self.rng.random() < group_party:
                for _ in range(int(self.rng.integers(1, 4))):
                    out.append(self.follower(len(out), leader))
        window_end = self.scenario.duration_s
        kept = [p for p in out if p.plan.end > 0 and p.plan.t[0] < window_end]
        # number the people kept 0, 1, …: a person's index is their place in the list, which the
        # cameras' truth (tracklets) uses, so people.csv, tracklets.csv and crossings.csv agree
        new = {p.index: i for i, p in enumerate(kept)}
        for i, p in enumerate(kept):
            p.index = i
            p.group = new.get(p.group, i)
        return kept
