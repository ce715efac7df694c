"""Incremental derivation equals whole re-derivation, on random trajectories cut at random.

One track's derivation (:func:`derive_points`, the derivation pass's own step for one track)
resumed batch after batch (its state round-tripped through the JSON that
``track_state`` stores) must give exactly the crossings and, after upserting visits by (zone,
enter_at) as the database does, exactly the visits of one pass over the whole trajectory.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.analytics.derive import TrackState, _derive_coded
from footfall.site import CountingLine, CountingRules, Side, Site, Zone, load_site
from footfall.site.rules import (
    Crossing,
    LineState,
    Point,
    Track,
    Visit,
    crossing_codes,
    inside_mask,
    line_crossings,
    zone_visits,
)

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def derive_points(
    points: list[Point], site: Site, state: TrackState
) -> tuple[list[Crossing], list[Visit], TrackState]:
    """Resume one track's derivation from ``state`` over its next ``points`` (time order), as
    ``derive_tracks`` does for each track of a batch."""
    track = Track.of(points)
    return _derive_coded(
        track.at,
        [crossing_codes(track, line, site.counting.line_hysteresis_m) for line in site.lines],
        [inside_mask(track, zone) for zone in site.zones],
        site,
        state,
    )


def _anchors() -> list[tuple[float, float]]:
    out = [((ln.a[0] + ln.b[0]) / 2, (ln.a[1] + ln.b[1]) / 2) for ln in SITE.lines]
    for zone in SITE.zones:
        xs = [float(p[0]) for p in zone.polygon]
        ys = [float(p[1]) for p in zone.polygon]
        out.append((sum(xs) / len(xs), sum(ys) / len(ys)))
    return out


def random_track(rng: random.Random, n: int) -> list[Point]:
    """A jittery walk around a line or zone: dwells, back-and-forth, gaps, other floors."""
    x, y = rng.choice(_anchors())
    x += rng.uniform(-3, 3)
    y += rng.uniform(-3, 3)
    at = T0 + timedelta(seconds=rng.uniform(0, 3600))
    out = []
    for _ in range(n):
        at += timedelta(seconds=rng.choice([0.1, 0.2, 0.5, 1.0, 1.5, 2.5, 7.0]))
        x += rng.gauss(0, 0.6)
        y += rng.gauss(0, 0.6)
        floor = "l0" if rng.random() > 0.03 else "l1"
        out.append(Point(at, floor, round(x, 3), round(y, 3)))
    return out


def test_a_state_saved_before_line_establish_s_resumes_as_established() -> None:
    """track_state rows written before line_establish_s hold each line's side as an int: it
    reads as that side established (what it meant), and a state with a side pending is saved
    with its first time, so the next pass can date the crossing then."""
    state = TrackState.from_row(T0, {"a": 1, "b": -1}, {})
    assert state.lines == {"a": LineState(1, 1), "b": LineState(-1, -1)}
    assert json.loads(state.lines_json()) == {"a": 1, "b": -1}
    pending = TrackState(T0, {"a": LineState(1, -1, T0)})
    assert json.loads(pending.lines_json()) == {"a": [1, -1, T0.isoformat()]}
    assert _roundtrip(pending) == pending
    assert pending.pending_since() == [T0]


def _roundtrip(state: TrackState) -> TrackState:
    lines, zones = json.loads(state.lines_json()), json.loads(state.zones_json())
    return TrackState.from_row(state.watermark, lines, zones)


@pytest.mark.parametrize("seed", range(40))
def test_incremental_equals_whole_on_random_batches(seed: int) -> None:
    rng = random.Random(seed)
    site = SITE.model_copy(
        update={
            "counting": CountingRules(
                line_hysteresis_m=rng.choice([0.0, 0.3, 1.0]),
                line_establish_s=rng.choice([0.0, 0.5, 1.0, 3.0]),
                min_visit_s=rng.choice([0.0, 5.0, 20.0]),
                visit_gap_s=rng.choice([0.5, 2.0, 10.0]),
            )
        }
    )
    assert SITE.lines and SITE.zones
    for _ in range(5):
        track = random_track(rng, rng.randint(0, 400))
        whole_crossings, whole_visits, whole_state = derive_points(track, site, TrackState())
        cuts = sorted(rng.sample(range(len(track) + 1), k=min(len(track) + 1, rng.randint(0, 8))))
        state = TrackState()
        crossings: list[Crossing] = []
        visits: dict[tuple[str, datetime], Visit] = {}
        for lo, hi in zip([0, *cuts], [*cuts, len(track)], strict=True):
            found, changed, state = derive_points(track[lo:hi], site, state)
            state = _roundtrip(state)
            crossings += found
            for v in changed:  # the zone_visit upsert on its natural key
                visits[(v.zone_id, v.enter_at)] = v

        def by_line(c: Crossing) -> tuple[str, datetime]:
            return (c.line_id, c.at)

        assert sorted(crossings, key=by_line) == sorted(whole_crossings, key=by_line)
        assert sorted(visits.values(), key=lambda v: (v.zone_id, v.enter_at)) == sorted(
            whole_visits, key=lambda v: (v.zone_id, v.enter_at)
        )
        assert state == _roundtrip(whole_state)


def test_random_tracks_exercise_crossings_and_visits() -> None:
    """The generator is not vacuous: it produces both kinds of rows."""
    rng = random.Random(0)
    found = [derive_points(random_track(rng, 300), SITE, TrackState()) for _ in range(40)]
    assert sum(len(c) for c, _, _ in found) > 10
    assert sum(len(v) for _, v, _ in found) > 10


def _reference_crossings(
    points: list[Point], line: CountingLine, h: float, establish_s: float
) -> list[Crossing]:
    """The rule point by point (the vectorised crossing_codes and the runs replaced this)."""
    (ax, ay), (bx, by) = line.a, line.b
    length = math.dist(line.a, line.b)
    ux, uy = (bx - ax) / length, (by - ay) / length
    sign = 1.0 if line.in_side == Side.RIGHT else -1.0
    need = timedelta(seconds=establish_s)
    out: list[Crossing] = []
    side = seen = 0  # established side; side of the latest confirming points, since when
    since = T0
    for p in points:
        rx, ry = p.x_m - ax, p.y_m - ay
        along = rx * ux + ry * uy
        if p.floor_id != line.floor or along < -h or along > length + h:
            side = seen = 0
            continue
        distance = sign * (ux * ry - uy * rx)
        if distance >= h:
            new = 1
        elif distance <= -h:
            new = -1
        else:
            continue
        if new != seen:
            seen, since = new, p.at
        if new != side and p.at - since >= need:
            if side:
                out.append(Crossing(line.id, since, new))
            side = new
    return out


def _reference_visits(points: list[Point], zone: Zone, min_s: float, gap_s: float) -> list[Visit]:
    visits: list[Visit] = []
    enter = last = None
    for p in points:
        if p.floor_id != zone.floor or not zone.contains(p.x_m, p.y_m):
            continue
        if enter is None or last is None:
            enter = p.at
        elif (p.at - last).total_seconds() > gap_s:
            visits.append(Visit(zone.id, enter, last))
            enter = p.at
        last = p.at
    if enter is not None and last is not None:
        visits.append(Visit(zone.id, enter, last))
    return [v for v in visits if v.dwell_s >= min_s]


@pytest.mark.parametrize("seed", range(10))
def test_vectorised_geometry_equals_the_per_point_loop(seed: int) -> None:
    rng = random.Random(1000 + seed)
    h = rng.choice([0.0, 0.3, 1.0])
    est = rng.choice([0.0, 0.5, 1.0, 3.0])
    for _ in range(5):
        track = random_track(rng, rng.randint(0, 300))
        for line in SITE.lines:
            assert line_crossings(track, line, h, est) == _reference_crossings(track, line, h, est)
        for zone in SITE.zones:
            assert zone_visits(track, zone, 5.0, 2.0) == _reference_visits(track, zone, 5.0, 2.0)
