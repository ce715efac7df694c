"""Line crossings with hysteresis and zone visits on small hand-made trajectories (the
establishment rule of crossings: tests/site/test_rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footfall.site import CountingLine, Zone
from footfall.site.rules import Point, line_crossings, zone_visits

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# Horizontal line y = 5 from x = 0 to x = 10; walking a → b (+x) the larger y is on the right.
LINE = CountingLine(id="gate", floor="l0", a=(0.0, 5.0), b=(10.0, 5.0), in_side="right")
ZONE = Zone(
    id="shop", name="Shop", floor="l0", kind="store", polygon=[[0, 0], [4, 0], [4, 4], [0, 4]]
)


def walk(*ys: float, x: float = 5.0, dt_s: float = 1.0) -> list[Point]:
    return [Point(T0 + timedelta(seconds=i * dt_s), "l0", x, y) for i, y in enumerate(ys)]


def test_walking_across_counts_once_in_then_once_out() -> None:
    crossings = line_crossings(walk(3, 4, 6, 7, 6, 4, 3), LINE, hysteresis_m=0.3, establish_s=0.0)
    assert [(c.direction, c.at) for c in crossings] == [
        (1, T0 + timedelta(seconds=2)),
        (-1, T0 + timedelta(seconds=5)),
    ]


def test_standing_on_the_line_is_not_counted_again_and_again() -> None:
    jitter = walk(3, 4.9, 5.1, 4.9, 5.1, 4.95, 5.2, 4.8, 6, 7)
    crossings = line_crossings(jitter, LINE, hysteresis_m=0.3, establish_s=0.0)
    assert [c.direction for c in crossings] == [1]
    # Without hysteresis the same jitter would be counted many times.
    assert len(line_crossings(jitter, LINE, hysteresis_m=0.0, establish_s=0.0)) > 1


def test_walking_around_the_end_of_the_line_is_not_a_crossing() -> None:
    around = [
        Point(T0 + timedelta(seconds=i), "l0", x, y)
        for i, (x, y) in enumerate([(5, 3), (9, 3), (12, 3), (12, 7), (9, 7), (5, 7)])
    ]
    assert line_crossings(around, LINE, hysteresis_m=0.3, establish_s=0.0) == []


def test_a_track_on_another_floor_never_crosses() -> None:
    other = [Point(p.at, "l1", p.x_m, p.y_m) for p in walk(3, 7)]
    assert line_crossings(other, LINE, hysteresis_m=0.3, establish_s=0.0) == []


def test_visits_respect_minimum_length_and_gaps() -> None:
    inside = [Point(T0 + timedelta(seconds=s), "l0", 2.0, 2.0) for s in range(0, 11)]  # 10 s
    later = [Point(T0 + timedelta(seconds=s), "l0", 2.0, 2.0) for s in range(20, 23)]  # 2 s
    outside = [Point(T0 + timedelta(seconds=s), "l0", 8.0, 8.0) for s in range(11, 20)]
    points = sorted(inside + outside + later, key=lambda p: p.at)
    visits = zone_visits(points, ZONE, min_visit_s=5.0, gap_s=2.0)
    assert [(v.enter_at, v.exit_at, v.dwell_s) for v in visits] == [
        (T0, T0 + timedelta(seconds=10), 10.0)
    ]
    # With no minimum both runs are visits; with a long gap allowance they merge into one.
    assert len(zone_visits(points, ZONE, min_visit_s=0.0, gap_s=2.0)) == 2
    merged = zone_visits(points, ZONE, min_visit_s=0.0, gap_s=30.0)
    assert [(v.enter_at, v.exit_at) for v in merged] == [(T0, T0 + timedelta(seconds=22))]


def test_a_point_on_the_zone_edge_is_inside() -> None:
    edge = [Point(T0 + timedelta(seconds=s), "l0", 4.0, 1.0) for s in range(6)]
    assert len(zone_visits(edge, ZONE, min_visit_s=5.0, gap_s=2.0)) == 1


def test_zone_membership_is_zone_contains_for_every_point_edges_included() -> None:
    grid = [i * 0.5 for i in range(-2, 11)]  # -1 … 5 in 0.5 m steps: inside, edges, outside
    for x in grid:
        for y in grid:
            point = [Point(T0, "l0", x, y)]
            assert bool(zone_visits(point, ZONE, 0.0, 2.0)) == ZONE.contains(x, y), (x, y)
    assert zone_visits([], ZONE, 0.0, 2.0) == []
