"""cloud.reports.staff: a chain made staff by time in a staff-only zone labels only its tracks
that entered one (an identity switch at the counter hands the chain to a shopper), unless the
site's ``reporting.staff.staff_only_whole_chain`` says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.reports.staff import classify_staff, link_chains
from cloud.reports.types import TrackVisit
from cloud.stitch.tracklets import Tracklets
from footfall.site import load_site
from footfall.site.reporting import ReportingRules, StaffRules

SITE = load_site(Path(__file__).resolve().parents[2] / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CAM = "l0-checkout"


def _tracklets(rows: list[tuple[str, float, float, list[tuple[float, float, float]]]]):
    cams = [c.id for c in SITE.cameras]
    return Tracklets(
        keys=[(CAM, "run", tr, T0 + timedelta(seconds=a)) for tr, a, _b, _p in rows],
        camera=np.array([cams.index(CAM)] * len(rows)),
        start=np.array([T0.timestamp() + r[1] for r in rows]),
        end=np.array([T0.timestamp() + r[2] for r in rows]),
        embedding=np.zeros((len(rows), 4)),
        quality=np.ones(len(rows)),
        frames=np.ones(len(rows)),
        paths=[np.array([(T0.timestamp() + s, x, y) for s, x, y in r[3]]) for r in rows],
    )


def _visit(tr: str, zone: str, a: float, b: float) -> TrackVisit:
    return TrackVisit(CAM, tr, zone, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))


# track 1: the cashier at the till for 5 minutes, then (after a switch) a shopper walking off;
# track 2: the broken track of that shopper, picked up 1.5 m and 2 s later: one chain
TRACKS = _tracklets(
    [
        ("1", 0, 320, [(0, 92.0, 17.6), (300, 92.1, 17.6), (320, 92.0, 16.0)]),
        ("2", 322, 400, [(322, 91.0, 15.0), (400, 86.0, 13.5)]),
    ]
)
VISITS = [
    _visit("1", "l0-tills", 0, 300),
    _visit("1", "l0-checkout", 0, 320),
    _visit("2", "l0-checkout", 322, 398),
]


def test_only_the_tracks_in_the_staff_only_zone_are_staff() -> None:
    assert len(set(link_chains(TRACKS))) == 1
    staff = classify_staff(SITE, TRACKS, VISITS)
    assert staff.tracks == {(CAM, "1"): "staff_only"}
    assert staff.chains == 1


def test_the_whole_chain_when_the_site_says_so() -> None:
    rules = ReportingRules(staff=StaffRules(staff_only_whole_chain=True))
    site = SITE.model_copy(update={"reporting": rules})
    staff = classify_staff(site, TRACKS, VISITS)
    assert staff.tracks == {(CAM, "1"): "staff_only", (CAM, "2"): "staff_only"}


def test_a_chain_does_not_hop_to_the_next_shopper_in_a_queue() -> None:
    # one shopper's track ends in the queue; the next shopper, 1.8 m along it, gets a new track
    # a second later: a broken track of someone standing starts again much closer than that
    t = _tracklets(
        [
            ("1", 0, 400, [(0, 92.0, 15.0), (400, 92.0, 15.0)]),
            ("2", 401, 900, [(401, 93.8, 15.0), (900, 93.8, 15.0)]),
            ("3", 902, 1200, [(902, 93.9, 15.1), (1200, 93.9, 15.1)]),  # the same, picked up
        ]
    )
    chains = link_chains(t)
    assert chains[0] != chains[1] == chains[2]
    visits = [
        _visit("1", "l0-checkout", 0, 400),
        _visit("2", "l0-checkout", 401, 900),
        _visit("3", "l0-checkout", 902, 1200),
    ]
    assert not classify_staff(SITE, t, visits).tracks  # no one stayed 15 minutes
