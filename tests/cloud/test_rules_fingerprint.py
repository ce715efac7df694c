"""Which counting rules are stored with the data (cloud.analytics.rules): the settings rows are
derived with, not ``min_visitor_s``, which the API applies when it answers. Changing it asks
for no ``recompute --adopt-rules``; changing any other setting still does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloud.analytics.derive import TrackState, _derive_coded
from cloud.analytics.rules import (
    QUERY_TIME_SETTINGS,
    derived_with,
    describe,
    same_derivation,
)
from footfall.site import CountingRules, Site, load_site
from footfall.site.rules import Point, Track, crossing_codes, inside_mask

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Unread(CountingRules):
    """Rules whose ``unread`` setting may not be read (a read is a dependency)."""

    unread: str = ""

    def __getattribute__(self, name: str) -> Any:
        if name != "unread" and name == object.__getattribute__(self, "__dict__").get("unread"):
            raise AssertionError(f"the derivation read counting.{name}")
        return super().__getattribute__(name)


def _walks(n: int) -> list[list[Point]]:
    """Walks across the demo site's lines and through its zones."""
    rng = random.Random(7)
    anchors = [((ln.a[0] + ln.b[0]) / 2, (ln.a[1] + ln.b[1]) / 2) for ln in SITE.lines]
    anchors += [(float(z.polygon[0][0]), float(z.polygon[0][1])) for z in SITE.zones]
    out = []
    for _ in range(n):
        x, y = rng.choice(anchors)
        at = T0 + timedelta(seconds=rng.uniform(0, 600))
        walk = []
        for _ in range(300):
            at += timedelta(seconds=rng.choice([0.2, 0.5, 1.0]))
            x, y = x + rng.gauss(0, 0.6), y + rng.gauss(0, 0.6)
            walk.append(Point(at, "l0", round(x, 3), round(y, 3)))
        out.append(walk)
    return out


def _derive(site: Site, walks: list[list[Point]]) -> tuple[int, int]:
    """Crossings and visits of the walks, by the derivation pass's own step for one track."""
    crossings = visits = 0
    for points in walks:
        track = Track.of(points)
        found, changed, _ = _derive_coded(
            track.at,
            [crossing_codes(track, ln, site.counting.line_hysteresis_m) for ln in site.lines],
            [inside_mask(track, zone) for zone in site.zones],
            site,
            TrackState(),
        )
        crossings, visits = crossings + len(found), visits + len(changed)
    return crossings, visits


def test_the_derivation_never_reads_min_visitor_s() -> None:
    walks = _walks(30)
    rows = _derive(SITE, walks)
    assert rows[0] > 5 and rows[1] > 5  # the walks do cross lines and visit zones
    for name in QUERY_TIME_SETTINGS:
        guarded = Unread(**SITE.counting.model_dump(), unread=name)
        assert _derive(SITE.model_copy(update={"counting": guarded}), walks) == rows
    # The guard has teeth: a setting the rows are derived with is read.
    for name in ("line_hysteresis_m", "line_establish_s", "min_visit_s", "visit_gap_s"):
        guarded = Unread(**SITE.counting.model_dump(), unread=name)
        with pytest.raises(AssertionError, match=f"read counting.{name}"):
            _derive(SITE.model_copy(update={"counting": guarded}), walks)


def test_only_min_visitor_s_is_left_out_of_the_stored_rules() -> None:
    assert set(QUERY_TIME_SETTINGS) == {"min_visitor_s"}
    rules = CountingRules()
    assert set(derived_with(rules)) == set(CountingRules.model_fields) - {"min_visitor_s"}
    assert same_derivation(rules, CountingRules(min_visitor_s=4.0))
    assert "min_visitor_s" not in describe(CountingRules(min_visitor_s=4.0))
    assert describe(rules).startswith("line_hysteresis_m=0.3, line_establish_s=0.5, ")
    for other in (
        CountingRules(line_hysteresis_m=0.6),
        CountingRules(line_establish_s=0.0),
        CountingRules(min_visit_s=3.0),
        CountingRules(visit_gap_s=5.0),
        CountingRules(heatmap_cell_m=1.0),
    ):
        assert not same_derivation(rules, other), other
