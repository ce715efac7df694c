"""cloud.reports.staff: shop staff standing at a post (minutes at one spot in a shop, outside
queues) are staff; browsing shoppers and people queueing are not. A cashier's track at the
counter's edge, just outside the tills zone, is staff with the rest of the cashier's chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.reports.staff import classify_staff, link_chains, longest_post
from cloud.reports.types import TrackVisit
from cloud.stitch.tracklets import Tracklets
from footfall.site import Site, load_site
from footfall.site.reporting import ReportingRules, StaffRules

SITE = load_site(Path(__file__).resolve().parents[2] / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RNG = np.random.default_rng(7)
Sample = tuple[float, float, float]


def _standing(a: float, b: float, x: float, y: float, noise: float = 0.15) -> list[Sample]:
    """Samples every 0.5 s of someone standing at (x, y), with position noise."""
    ts = np.arange(a, b, 0.5)
    xy = RNG.normal(0.0, noise, (len(ts), 2))
    return [(float(t), x + float(dx), y + float(dy)) for t, (dx, dy) in zip(ts, xy, strict=True)]


def _tracklets(cam: str, rows: list[tuple[str, list[Sample]]]) -> Tracklets:
    cams = [c.id for c in SITE.cameras]
    return Tracklets(
        keys=[(cam, "run", tr, T0 + timedelta(seconds=p[0][0])) for tr, p in rows],
        camera=np.array([cams.index(cam)] * len(rows)),
        start=np.array([T0.timestamp() + p[0][0] for _tr, p in rows]),
        end=np.array([T0.timestamp() + p[-1][0] for _tr, p in rows]),
        embedding=np.zeros((len(rows), 4)),
        quality=np.ones(len(rows)),
        frames=np.ones(len(rows)),
        paths=[np.array([(T0.timestamp() + s, x, y) for s, x, y in p]) for _tr, p in rows],
    )


def _visit(cam: str, tr: str, zone: str, a: float, b: float) -> TrackVisit:
    return TrackVisit(cam, tr, zone, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))


def _site(**rules: float) -> Site:
    return SITE.model_copy(update={"reporting": ReportingRules(staff=StaffRules(**rules))})


def test_a_shop_assistant_at_the_door_is_staff() -> None:
    # six minutes at one spot inside the sports shop's door (l1-mall-west sees it)
    t = _tracklets("l1-mall-west", [("1", _standing(0, 360, 24.0, 19.0))])
    visits = [_visit("l1-mall-west", "1", "l1-sports", 0, 360)]
    assert classify_staff(SITE, t, visits).tracks == {("l1-mall-west", "1"): "post"}
    assert 350 <= longest_post(t.paths[0], 1.0) <= 360
    # a site that wants longer posts
    assert not classify_staff(_site(post_s=600.0), t, visits).tracks


def test_a_post_survives_a_broken_track() -> None:
    # the same six minutes, the track broken twice and picked up on the spot: one chain
    path = _standing(0, 360, 24.0, 19.0)
    rows = [("1", path[:200]), ("2", path[203:500]), ("3", path[503:])]
    t = _tracklets("l1-mall-west", rows)
    assert len(set(link_chains(t))) == 1
    visits = [_visit("l1-mall-west", tr, "l1-sports", p[0][0], p[-1][0]) for tr, p in rows]
    staff = classify_staff(SITE, t, visits)
    assert set(staff.tracks) == {("l1-mall-west", tr) for tr in ("1", "2", "3")}


def test_a_browsing_shopper_is_not_staff() -> None:
    # a shopper stopping for two minutes at each of three shelves, 4 m apart, walking between
    stops = [(0, 120, 20.0, 12.0), (125, 245, 24.0, 12.0), (250, 370, 28.0, 12.0)]
    path = [s for a, b, x, y in stops for s in _standing(a, b, x, y)]
    t = _tracklets("l1-mall-west", [("1", path)])
    assert 110 <= longest_post(t.paths[0], 1.0) <= 120
    assert not classify_staff(SITE, t, [_visit("l1-mall-west", "1", "l1-sports", 0, 370)]).tracks


def test_standing_in_a_queue_or_on_the_mall_is_not_a_post() -> None:
    # ten minutes still in the supermarket's checkout queue: shoppers queue standing
    t = _tracklets("l0-checkout", [("1", _standing(0, 600, 92.0, 15.0))])
    assert not classify_staff(SITE, t, [_visit("l0-checkout", "1", "l0-checkout", 0, 600)]).tracks
    # ten minutes waiting for someone on the first-floor mall (a corridor)
    t = _tracklets("l1-mall-west", [("1", _standing(0, 600, 24.0, 30.0))])
    assert not classify_staff(SITE, t, [_visit("l1-mall-west", "1", "l1-mall", 0, 600)]).tracks


def test_a_cashier_at_the_counters_edge_is_staff() -> None:
    # the cashier at the till (tills: y 17.2-18), the track broken and picked up 0.3 m out of
    # the tills zone, where position noise put the cashier for the next three minutes
    rows = [
        ("1", _standing(0, 120, 90.0, 17.5, noise=0.05)),
        ("2", _standing(121, 300, 90.0, 16.9, noise=0.05)),
        ("3", [(301.0, 90.0, 16.0), (310.0, 90.0, 14.0), (320.0, 90.0, 12.0)]),  # walks off
    ]
    t = _tracklets("l0-checkout", rows)
    assert len(set(link_chains(t))) == 1
    visits = [
        _visit("l0-checkout", "1", "l0-tills", 0, 120),
        _visit("l0-checkout", "2", "l0-checkout", 121, 300),
        _visit("l0-checkout", "3", "l0-checkout", 301, 320),
    ]
    staff = classify_staff(SITE, t, visits)
    assert staff.tracks == {("l0-checkout", "1"): "staff_only", ("l0-checkout", "2"): "staff_only"}
    off = classify_staff(_site(staff_only_margin_m=0.0), t, visits)
    assert off.tracks == {("l0-checkout", "1"): "staff_only"}
