"""The online stitcher on hand-made tracklets of the two-floor mall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cloud.stitch.stitcher import MODES, Stitcher, StitchSettings, stitch
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import Tracklets, seconds
from footfall.site import load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "two_floor_mall.yaml")
TOPO = CameraTopology.of(SITE)
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DIMS = 64
RNG = np.random.default_rng(0)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def person() -> np.ndarray:
    return unit(RNG.normal(size=DIMS))


def seen(base: np.ndarray, noise: float = 0.5) -> np.ndarray:
    """A tracklet embedding of someone whose identity is ``base`` (cosine ≈ 1/√(1+noise²))."""
    return unit(base + noise * RNG.normal(size=DIMS) / np.sqrt(DIMS))


Row = tuple[str, float, float, np.ndarray, tuple[float, float], tuple[float, float]]


def tracklets(rows: list[Row]) -> Tracklets:
    """(camera, start s, end s, embedding, first xy, last xy): walking straight, 1 point/s."""
    data = []
    paths = {}
    for i, (camera, start, end, emb, a, b) in enumerate(rows):
        times = np.arange(start, end + 1e-9, 1.0)
        f = (times - start) / max(end - start, 1e-9)
        t0 = seconds(T0)
        paths[(camera, f"{i:016x}")] = np.stack(
            [t0 + times, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f], axis=1
        )
        data.append(
            (
                camera,
                "0" * 32,
                f"{i:016x}",
                T0 + timedelta(seconds=start),
                T0 + timedelta(seconds=end),
                len(times) * 2,
                0.8,
                list(emb),
            )
        )
    return Tracklets.build(SITE, data, paths)


def ids(rows: list[Row], mode: str = "combined", **kw: float) -> list[str]:
    return stitch(tracklets(rows), TOPO, StitchSettings(mode=mode, **kw), seed=1)


@pytest.mark.parametrize("mode", MODES)
def test_one_person_walking_between_linked_cameras_is_one_visitor(mode: str) -> None:
    p = person()
    out = ids(
        [
            ("l0-north-entrance", 0, 10, seen(p), (60, 4), (58, 10)),
            ("l0-mall-west", 30, 50, seen(p), (45, 20), (35, 28)),
        ],
        mode,
    )
    assert out[0] == out[1]


def test_look_alikes_in_two_places_at_once_are_two_visitors() -> None:
    p = person()
    rows: list[Row] = [
        ("l0-north-entrance", 0, 20, seen(p, 0.2), (60, 4), (60, 9)),
        ("l0-mall-east", 5, 25, seen(p, 0.2), (100, 30), (104, 33)),
    ]
    assert ids(rows, "appearance")[0] == ids(rows, "appearance")[1]  # appearance is fooled
    combined = ids(rows, "combined")
    assert combined[0] != combined[1]
    # …and too far apart to walk in the time between
    far: list[Row] = [
        ("l0-west-entrance", 0, 10, seen(p, 0.2), (4, 30), (9, 30)),
        ("l0-mall-east", 14, 30, seen(p, 0.2), (104, 30), (100, 33)),
    ]
    out = ids(far, "combined")
    assert out[0] != out[1]


def test_overlapping_cameras_see_one_person_at_once_when_positions_agree() -> None:
    p, q = person(), person()
    out = ids(
        [
            ("l1-food-court-west", 0, 20, seen(p), (55, 12), (62, 16)),
            ("l1-food-court-east", 2, 22, seen(p, 0.9), (55.7, 12.4), (62.2, 16.1)),
            # the same look at the same time 10 m away: someone else
            ("l1-food-court-east", 3, 21, seen(p, 0.2), (66, 5), (70, 8)),
            ("l1-food-court-east", 40, 50, seen(q), (60, 10), (62, 12)),
        ]
    )
    assert out[0] == out[1]
    assert out[2] not in (out[0], out[3])
    assert len(set(out)) == 3


def test_a_broken_track_joins_even_with_a_poor_embedding() -> None:
    p = person()
    out = ids(
        [
            ("l0-escalator", 0, 10, seen(p), (76, 26), (78, 28)),
            ("l0-escalator", 11.5, 20, seen(p, 1.4), (78.3, 28.2), (80, 30)),
        ]
    )
    assert out[0] == out[1]


def test_joint_decision_gives_the_visitor_to_the_better_tracklet() -> None:
    p = person()
    close, looser = seen(p, 0.2), seen(p, 0.9)
    rows: list[Row] = [
        ("l0-mall-west", 0, 5, seen(p, 0.1), (40, 26), (46, 28)),
        # two tracklets at once on one camera, 10 m apart: only one can be the visitor
        ("l0-escalator", 20, 32, close, (76, 26), (78, 28)),
        ("l0-escalator", 20, 30, looser, (80, 36), (82, 38)),
    ]
    batch = ids(rows, delay_s=10.0)
    assert batch[1] == batch[0] and batch[2] != batch[0]
    # without a decision delay the looser one ends first and takes the visitor
    eager = ids(rows, delay_s=0.0)
    assert eager[2] == eager[0] and eager[1] != eager[0]


def test_the_gallery_forgets_visitors_after_the_ttl() -> None:
    rows: list[Row] = []
    cams = [c.id for c in SITE.cameras if c.floor == "l0"]
    for i in range(300):
        start = i * 30.0
        rows.append((cams[i % len(cams)], start, start + 5, person(), (60, 30), (61, 30)))
    t = tracklets(rows)
    st = Stitcher(TOPO, StitchSettings(ttl_s=120.0), DIMS, seed=1)
    out = st.run(t)
    assert len(set(out)) == 300
    assert st.peak_gallery <= 6  # at most the visitors of the last 120 s (+ the batch)
    assert st.gallery.size < 300  # forgotten columns are dropped, not only hidden

    p = person()
    back = [
        ("l0-north-entrance", 0, 10, seen(p), (60, 4), (60, 9)),
        ("l0-north-entrance", 1000, 1010, seen(p), (60, 4), (60, 9)),
    ]
    assert len(set(ids(back, ttl_s=3600.0))) == 1  # came back within the TTL
    assert len(set(ids(back, ttl_s=600.0))) == 2  # forgotten: a new anonymous id


def test_decided_tracklets_keep_their_ids() -> None:
    p = person()
    t = tracklets(
        [
            ("l0-north-entrance", 0, 10, seen(p), (60, 4), (58, 10)),
            ("l0-mall-west", 30, 50, seen(p), (45, 20), (35, 28)),
        ]
    )
    out = Stitcher(TOPO, StitchSettings(), DIMS).run(t, fixed={0: "00000000cafe0001"})
    assert out == ["00000000cafe0001", "00000000cafe0001"]


NONE = np.zeros(DIMS)
"""The embedding of a tracklet without appearance (a camera replayed from detections)."""


def walk(t: float, offset: float = 0.0) -> tuple[float, float]:
    """Where someone walking across the food court is at time t (s)."""
    return (55 + t / 3 + offset, 12 + 0.7 * t / 3)


def test_a_later_tracklet_that_fits_two_visitors_merges_them() -> None:
    rows: list[Row] = [
        ("l1-food-court-west", 0, 8, NONE, walk(0), walk(8)),
        # lost for 8 s (longer than plain_max_gap_s): without appearance a new visitor
        ("l1-food-court-west", 16, 26, NONE, walk(16), walk(26)),
        # the overlapping view saw the person all along: both are that person
        ("l1-food-court-east", 1, 30, NONE, walk(1, 0.3), walk(30, 0.3)),
    ]
    apart = ids(rows, merge_fit=None)
    assert apart[0] != apart[1]
    merged = ids(rows)
    assert len(set(merged)) == 1


def test_two_tracks_of_one_camera_at_once_are_never_merged() -> None:
    rows: list[Row] = [
        # two people side by side, 1 m apart, on one camera at the same time
        ("l1-food-court-west", 0, 20, NONE, walk(0), walk(20)),
        ("l1-food-court-west", 0, 20, NONE, walk(0, 1.0), walk(20, 1.0)),
        # the overlapping view's track lies between them: it agrees with both
        ("l1-food-court-east", 1, 24, NONE, walk(1, 0.5), walk(24, 0.5)),
    ]
    out = ids(rows)
    assert out[0] != out[1]
    assert out[2] in (out[0], out[1])


def test_merged_visitor_ids_resolve_to_the_visitor_they_became() -> None:
    t = tracklets([("l1-food-court-west", 0, 8, NONE, walk(0), walk(8))])
    st = Stitcher(TOPO, StitchSettings(), DIMS, aliases={"00000000cafe0002": "00000000cafe0001"})
    assert st.run(t, fixed={0: "00000000cafe0002"}) == ["00000000cafe0001"]


def test_appearance_is_scaled_by_the_embedders_different_person_mean() -> None:
    """A real embedder gives two different people a high cosine similarity (0.775 on average
    for the offline one): 0.85 is one person for the simulator's embeddings, not for it."""
    a, b = np.eye(DIMS)[0], np.eye(DIMS)[1]
    near = 0.85 * a + np.sqrt(1 - 0.85**2) * b
    rows: list[Row] = [
        ("l0-north-entrance", 0, 10, a, (60, 4), (58, 10)),
        ("l0-mall-west", 30, 50, near, (45, 20), (35, 28)),
    ]
    t = tracklets(rows)
    settings = StitchSettings(mode="appearance")
    assert len(set(stitch(t, TOPO, settings, seed=1))) == 1  # no model named: as it is
    t.models = ["mobilenetv2_imagenet+hsv3", "mobilenetv2_imagenet+hsv3"]
    assert len(set(stitch(t, TOPO, settings, seed=1))) == 2
    unlisted = StitchSettings(mode="appearance", appearance_baselines={})
    assert len(set(stitch(t, TOPO, unlisted, seed=1))) == 1
