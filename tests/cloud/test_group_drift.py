"""cloud.reports.groups: two people through the door together are a group only if they keep
one pace (their distance does not drift), not merely because they stay close for a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.reports import groups
from cloud.reports.types import TrackCrossing
from footfall.site import load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CAM = "l0-north-entrance"


def _pair(second: list[tuple[float, float, float]]) -> list[groups.Party]:
    first = [(s * 0.5, 60.0, 6.0 + 0.6 * s) for s in range(0, 9)]  # 1.2 m/s for 4 s
    paths = {
        (CAM, "a"): np.array([(T0.timestamp() + s, x, y) for s, x, y in first]),
        (CAM, "b"): np.array([(T0.timestamp() + s, x, y) for s, x, y in second]),
    }
    crossings = [
        TrackCrossing(CAM, "a", "l0-north-doors", T0, 1),
        TrackCrossing(CAM, "b", "l0-north-doors", T0 + timedelta(seconds=0.5), 1),
    ]
    return groups.parties(SITE, crossings, paths)


def test_one_pace_side_by_side_is_a_group() -> None:
    beside = [(s * 0.5, 61.55, 6.0 + 0.6 * s) for s in range(0, 9)]  # 1.55 m to the side
    assert sorted(p.size for p in _pair(beside)) == [2]


def test_strangers_who_drift_apart_are_two_parties() -> None:
    # 0.3 m to the side at the door, 1.5 m after 4 s: a faster walker pulling away sideways
    drifting = [(s * 0.5, 60.3 + 0.15 * s, 6.0 + 0.6 * s) for s in range(0, 9)]
    assert sorted(p.size for p in _pair(drifting)) == [1, 1]
