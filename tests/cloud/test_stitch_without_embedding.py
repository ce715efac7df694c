"""Tracklets without appearance (a camera replayed from detections) are stitched by time and
floor position: the PETS plaza's two overlapping cameras."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from cloud.stitch.stitcher import StitchSettings, stitch
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import Tracklets, seconds

SITE_FILE = Path(__file__).resolve().parents[2] / "configs" / "sites" / "pets_plaza.yaml"
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _tracklets(rows: list[tuple[str, float, float, tuple[float, float], tuple[float, float]]]):
    from footfall.site import load_site

    site = load_site(SITE_FILE)
    data, paths = [], {}
    for i, (camera, start, end, a, b) in enumerate(rows):
        times = np.arange(start, end + 1e-9, 1.0)
        f = (times - start) / max(end - start, 1e-9)
        paths[(camera, f"{i:016x}")] = np.stack(
            [seconds(T0) + times, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f], axis=1
        )
        data.append(
            (camera, "0" * 32, f"{i:016x}", T0 + timedelta(seconds=start),
             T0 + timedelta(seconds=end), len(times) * 7, None, None)
        )  # fmt: skip
    return site, Tracklets.build(site, data, paths)


def _ids(rows, mode: str = "combined") -> list[str]:  # type: ignore[no-untyped-def]
    site, t = _tracklets(rows)
    assert not t.has_embedding.any()
    return stitch(t, CameraTopology.of(site), StitchSettings(mode=mode), seed=0)


def test_the_same_walk_in_two_overlapping_views_is_one_visitor() -> None:
    ids = _ids(
        [
            ("pets-view1", 0, 20, (8, 4), (14, 20)),
            ("pets-view5", 2, 22, (8.5, 4.8), (14.3, 20.6)),  # 0.4-0.8 m apart: the same person
            ("pets-view1", 0, 20, (25, 8), (25, 20)),  # someone else at the same time
        ]
    )
    assert ids[0] == ids[1] != ids[2]


def test_a_track_broken_for_a_moment_joins_and_a_far_newcomer_does_not() -> None:
    ids = _ids(
        [
            ("pets-view1", 0, 10, (8, 4), (12, 10)),
            ("pets-view1", 12, 25, (12.5, 10.5), (15, 20)),  # lost 2 s, 0.7 m on
            ("pets-view5", 11, 25, (28, 26), (28, 10)),  # 20 m away after 1 s: not the same
        ]
    )
    assert ids[0] == ids[1] != ids[2]


def test_appearance_mode_never_joins_without_appearance() -> None:
    ids = _ids(
        [("pets-view1", 0, 20, (8, 4), (14, 20)), ("pets-view5", 2, 22, (8.5, 4.8), (14, 20))],
        mode="appearance",
    )
    assert ids[0] != ids[1]


def test_someone_who_leaves_every_view_and_comes_back_where_they_left_is_one_visitor() -> None:
    ids = _ids(
        [
            ("pets-view1", 0, 20, (12, 12), (11, 3.5)),  # walks out at the edge of the plaza
            ("pets-view1", 35, 60, (10, 3), (12, 12)),  # 15 s later, 1 m from there: back
            ("pets-view5", 0, 60, (25, 8), (25, 14)),  # someone else all along
        ]
    )
    assert ids[0] == ids[1] != ids[2]


def test_a_newcomer_where_two_people_left_is_someone_new() -> None:
    ids = _ids(
        [
            ("pets-view1", 0, 20, (8, 12), (9, 3.5)),
            ("pets-view1", 0, 20, (15, 12), (13, 3.5)),  # two people leave, 4 m apart
            ("pets-view1", 35, 60, (11, 3), (12, 12)),  # 2 m from both: either, or nobody
        ]
    )
    assert len(set(ids)) == 3


def test_a_newcomer_nearer_one_of_two_who_left_by_less_than_the_margin_is_someone_new() -> None:
    # two people leave 4 m apart; a newcomer 1.1 m from one and 3.0 m from the other, 15 s
    # later: 1.9 m nearer is within what the edge of a view blurs (~2 s of walking, 2.5 m)
    rows = [
        ("pets-view1", 0, 20, (8, 12), (9, 3.5)),
        ("pets-view1", 0, 20, (15, 12), (13, 3.5)),
        ("pets-view1", 35, 60, (10, 3), (12, 12)),
    ]
    assert len(set(_ids(rows))) == 3
    # alone there, the one who left is taken back
    assert len(set(_ids([rows[0], rows[2]]))) == 1
    # the margin makes the difference: at the old 0.1 the nearer one was taken
    site, t = _tracklets(rows)
    narrow = StitchSettings(reentry_margin=0.1)
    assert len(set(stitch(t, CameraTopology.of(site), narrow, seed=0))) == 2


def test_someone_lost_in_plain_view_is_not_taken_for_a_return() -> None:
    rows = [
        ("pets-view1", 0, 20, (12, 16), (12, 10)),  # lost in the middle of both views
        ("pets-view1", 35, 60, (12, 10.5), (14, 6)),  # 15 s later near there
    ]
    assert len(set(_ids(rows))) == 2
    # the edge makes the difference: the same walk leaving at the edge is one visitor…
    back = [("pets-view1", 0, 20, (12, 12), (11, 3.5)), ("pets-view1", 35, 60, (10, 3), (12, 12))]
    assert len(set(_ids(back))) == 1
    # …and only through re-entry linking
    site, t = _tracklets(back)
    off = StitchSettings(reentry_window_s=None)
    assert len(set(stitch(t, CameraTopology.of(site), off, seed=0))) == 2
