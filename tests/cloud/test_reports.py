"""cloud.reports: staff, groups, queues and the occupancy balance on hand-made tracks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.reports import groups, occupancy, queues
from cloud.reports.staff import classify_staff, link_chains
from cloud.reports.types import TrackCrossing, TrackVisit
from cloud.stitch.tracklets import Tracklets
from footfall.site import load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _tracklets(rows: list[tuple[str, str, float, float, list[tuple[float, float, float]]]]):
    cams = [c.id for c in SITE.cameras]
    return Tracklets(
        keys=[(cam, "run", tr, T0 + timedelta(seconds=a)) for cam, tr, a, _b, _p in rows],
        camera=np.array([cams.index(r[0]) for r in rows]),
        start=np.array([T0.timestamp() + r[2] for r in rows]),
        end=np.array([T0.timestamp() + r[3] for r in rows]),
        embedding=np.zeros((len(rows), 4)),
        quality=np.ones(len(rows)),
        frames=np.ones(len(rows)),
        paths=[np.array([(T0.timestamp() + s, x, y) for s, x, y in r[4]]) for r in rows],
    )


def _visit(cam: str, tr: str, zone: str, a: float, b: float) -> TrackVisit:
    return TrackVisit(cam, tr, zone, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))


def test_a_broken_track_is_chained_and_a_long_stay_is_staff() -> None:
    cam = SITE.cameras[0].id
    t = _tracklets(
        [
            (cam, "1", 0, 500, [(0, 10, 10), (500, 12, 10)]),
            (cam, "2", 502, 1000, [(502, 12.5, 10), (1000, 11, 11)]),
            (cam, "3", 503, 600, [(503, 30, 30), (600, 31, 30)]),  # someone else, far away
        ]
    )
    assert len(set(link_chains(t))) == 2
    visits = [
        _visit(cam, "1", "l0-fashion", 0, 500),
        _visit(cam, "2", "l0-fashion", 502, 1000),
        _visit(cam, "3", "l0-fashion", 503, 600),
    ]
    staff = classify_staff(SITE, t, visits)
    assert set(staff.tracks) == {(cam, "1"), (cam, "2")}
    assert set(staff.tracks.values()) == {"stay"}
    short = classify_staff(SITE, t, visits[2:])
    assert not short.tracks


def test_time_in_a_staff_only_zone_makes_staff() -> None:
    cam = SITE.cameras[0].id
    t = _tracklets([(cam, "1", 0, 60, [(0, 110, 50), (60, 111, 51)])])
    staff = classify_staff(SITE, t, [_visit(cam, "1", "l0-loading-bay", 0, 45)])
    assert staff.tracks == {(cam, "1"): "staff_only"}


def test_people_who_enter_and_walk_together_are_one_group() -> None:
    cam = SITE.cameras[0].id
    walk = [(s, 60.0, 6.0 + 1.2 * s) for s in range(0, 12)]
    beside = [(s + 0.5, 60.8, 6.0 + 1.2 * s) for s in range(0, 12)]
    apart = [(s + 1.0, 60.0 + 0.9 * s, 6.0 + 1.2 * s) for s in range(0, 12)]
    paths = {(cam, "a"): np.array([(T0.timestamp() + s, x, y) for s, x, y in walk])}
    paths[(cam, "b")] = np.array([(T0.timestamp() + s, x, y) for s, x, y in beside])
    paths[(cam, "c")] = np.array([(T0.timestamp() + s, x, y) for s, x, y in apart])
    crossings = [
        TrackCrossing(cam, tr, "l0-north-doors", T0 + timedelta(seconds=d), 1)
        for tr, d in (("a", 0.0), ("b", 0.5), ("c", 1.0))
    ]
    ps = groups.parties(SITE, crossings, paths)
    assert sorted(p.size for p in ps) == [1, 2]
    assert groups.summary(ps) == {
        "entries_people": 3,
        "entries_parties": 2,
        "groups": 1,
        "people_in_groups": 2,
    }


def test_waits_join_visits_and_leave_out_staff_and_passers_by() -> None:
    cam = SITE.cameras[0].id
    visits = [
        _visit(cam, "1", "l0-checkout", 0, 60),
        _visit(cam, "1", "l0-checkout", 65, 120),  # same person, a short gap: one wait
        _visit(cam, "2", "l0-checkout", 30, 40),  # walked past
        _visit(cam, "3", "l0-checkout", 0, 3000),  # staff at the till
        _visit(cam, "4", "l0-fashion", 0, 600),  # not a queue
    ]
    ws = queues.waits(SITE, visits, exclude=[(cam, "3")])
    assert [(w.visitor_id, w.wait_s) for w in ws] == [(f"{cam}/1", 120.0)]
    assert queues.stats(ws) == {"waits": 1, "mean_s": 120.0, "p90_s": 120.0}
    assert queues.length_at(ws, "l0-checkout", T0.timestamp() + 50) == 1
    edges = [T0.timestamp() + s for s in (-60, 0, 60, 200)]
    assert queues.peak_lengths(ws, "l0-checkout", edges) == [0, 1, 1, 0]
    assert "l0-checkout" in queues.queue_zones(SITE)


def test_occupancy_is_clamped_and_closed_at_closing_time() -> None:
    day = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # midnight in Europe/Berlin
    minutes = [day + timedelta(minutes=m) for m in range(24 * 60)]
    ins = [0] * len(minutes)
    outs = [0] * len(minutes)
    ins[9 * 60 + 10] = 10
    outs[12 * 60] = 15  # five left through a door that counted none of them coming in
    ins[13 * 60] = 4  # four came in later and are still counted at closing time
    b = occupancy.balance(SITE, minutes, ins, outs)
    assert min(b.raw) < 0
    assert min(b.balanced) >= 0
    assert b.residual == -1
    assert b.balanced[22 * 60] == 0
    seen = [0] * len(minutes)
    seen[12 * 60 + 5] = 3
    assert occupancy.balance(SITE, minutes, ins, outs, seen).balanced[12 * 60 + 5] >= 3
