"""footfall.evaluation.reporting: the staff label scored over sightings, and where staff were
seen (why they are found or missed), on hand-made tracks and truth."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.reports.staff import classify_staff
from cloud.reports.types import TrackVisit
from cloud.stitch.tracklets import Tracklets
from footfall.evaluation.reporting import evaluate_staff, staff_sightings_where
from footfall.simulate.truth import Truth
from footfall.site import load_site

ROOT = Path(__file__).resolve().parents[2]
SITE = load_site(ROOT / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CAM = SITE.cameras[0].id


def _tracklets(rows: list[tuple[str, float, float, float, float]]) -> Tracklets:
    """(track, start s, end s, x, y): one camera, standing still."""
    return Tracklets(
        keys=[(CAM, "run", tr, T0 + timedelta(seconds=a)) for tr, a, _b, _x, _y in rows],
        camera=np.zeros(len(rows), dtype=int),
        start=np.array([T0.timestamp() + r[1] for r in rows]),
        end=np.array([T0.timestamp() + r[2] for r in rows]),
        embedding=np.zeros((len(rows), 4)),
        quality=np.ones(len(rows)),
        frames=np.ones(len(rows)),
        paths=[
            np.array([(T0.timestamp() + a, x, y), (T0.timestamp() + b, x, y)])
            for _tr, a, b, x, y in rows
        ],
    )


def _visit(tr: str, zone: str, a: float, b: float) -> TrackVisit:
    return TrackVisit(CAM, tr, zone, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))


def test_staff_sightings_are_scored_and_told_apart_by_where_they_were() -> None:
    # person 0 (staff): 1000 s in the fashion store (a stay zone, labelled), then 200 s in the
    # food court on a break (not labelled); person 1 (visitor): 200 s in the fashion store
    # (standing: longer would be a post, cloud.reports.staff), with
    # 10 sightings of person 0 in the same track (an identity switch); person 2 (staff): seen
    # only in the mall corridor
    t = _tracklets(
        [
            ("a", 0, 1000, 20, 10),
            ("b", 1100, 1300, 50, 10),
            ("c", 0, 200, 30, 10),
            ("d", 0, 50, 30, 30),
        ]
    )
    visits = [
        _visit("a", "l0-fashion", 0, 1000),
        _visit("a", "l0-mall", 990, 1000),
        _visit("b", "l1-food-court", 1100, 1300),
        _visit("c", "l0-fashion", 0, 200),
        _visit("d", "l0-mall", 0, 50),
    ]
    truth = Truth(
        people=[(0, "staff", 0, 1), (1, "visitor", 1, 1), (2, "staff", 2, 1)],
        tracks={
            (CAM, "run", "a"): Counter({0: 2000}),
            (CAM, "run", "b"): Counter({0: 400}),
            (CAM, "run", "c"): Counter({1: 590, 0: 10}),
            (CAM, "run", "d"): Counter({2: 100}),
        },
    )
    staff = classify_staff(SITE, t, visits)
    assert set(staff.tracks) == {(CAM, "a")}
    scored = evaluate_staff(truth, t, staff)
    assert scored["staff_precision"] == 1.0
    assert scored["staff_recall"] == round(2000 / 2510, 4)
    assert (scored["staff_people"], scored["staff_people_found"]) == (2, 1)
    where = staff_sightings_where(SITE, truth, t, visits, {0, 2}, staff.tracks)
    assert where["staff_sightings"] == 2510
    assert where["staff_seen_at_work"] == round(2010 / 2510, 4)
    assert where["staff_sightings_where"] == {
        "stay_zone": {"sightings": 2010, "labelled": 2000},
        "food_court": {"sightings": 400, "labelled": 0},
        "corridor": {"sightings": 100, "labelled": 0},
    }


def test_the_staff_breakdown_bench_adds_up_per_staff_member_and_in_all() -> None:
    done = subprocess.run(
        # seed 3: a seed whose 10 minutes show staff (on seed 1 no camera sees the 2 staff)
        [sys.executable, "bench/reports/staff_breakdown.py", "--scenario", "smoke", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(done.stdout)
    where = out["staff_sightings_where"]
    assert out["staff_sightings"] == sum(w["sightings"] for w in where.values()) > 0
    assert len(out["staff"]) == out["staff_people"] == 2
    for key in ("sightings", "labelled"):
        for w, total in where.items():
            per = [s["staff_sightings_where"].get(w, {key: 0})[key] for s in out["staff"]]
            assert sum(per) == total[key]
    assert sum(sum(s["cameras"].values()) for s in out["staff"]) == out["staff_sightings"]
    # the offices are out of every camera's view; the service corridor and the loading bay are
    # the security camera's; the checkout mostly in one
    assert out["zone_coverage"]["l1-offices"] == 0.0
    assert out["zone_coverage"]["l0-service-corridor"] > 0.5
    assert out["zone_coverage"]["l0-loading-bay"] > 0.5
    assert out["zone_coverage"]["l0-checkout"] > 0.5
