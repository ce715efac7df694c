"""The head linker (tracker.type: linker): people at a few frames/s keep one track."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from edge.config import EdgeConfig, EdgeConfigError, TrackerConfig
from edge.detection import Detections
from edge.linker import HeadLinker
from edge.pipeline import camera_pipeline
from edge.tracking import BotSortTracker

IMAGE = np.zeros((480, 640, 3), np.uint8)
CONFIG = TrackerConfig(
    type="linker", track_low_thresh=0.08, new_track_thresh=0.15, track_buffer_s=1.0
)


def boxes(*rows: tuple[float, float, float, float, float]) -> Detections:
    data = np.array(rows, np.float32).reshape(-1, 5)
    return Detections(xyxy=data[:, :4], confidence=data[:, 4])


def walker(step: int, x0: float = 100.0, y: float = 200.0, score: float = 0.5, speed: float = 30.0):
    """A 20 x 40 px person walking ``speed`` px a frame (30: no overlap between frames)."""
    x = x0 + speed * step
    return (x, y, x + 20.0, y + 40.0, score)


def test_a_small_fast_person_keeps_one_random_id_where_box_overlap_loses_them() -> None:
    linker = HeadLinker(CONFIG, fps=2)
    ids = []
    for step in range(6):
        shown = linker.update(boxes(walker(step)), IMAGE)
        assert shown.tracker_id is not None and len(shown) == 1
        ids.append(shown.tracker_id[0])
    assert len(set(ids)) == 1 and re.fullmatch(r"[0-9a-f]{16}", ids[0])
    # BoT-SORT, whose first cue is box overlap, gives the same walk more than one track
    botsort = BotSortTracker(TrackerConfig(new_track_thresh=0.3), fps=2, use_embeddings=False)
    seen: Counter[str] = Counter()
    for step in range(6):
        shown = botsort.update(boxes(walker(step)), IMAGE)
        seen.update(str(t) for t in (shown.tracker_id if shown.tracker_id is not None else []))
    assert max(seen.values(), default=0) < 6  # no BoT-SORT track follows all six frames


def test_a_track_is_shown_from_its_first_confident_box_then_through_low_scores() -> None:
    linker = HeadLinker(CONFIG, fps=2)
    scores = [0.1, 0.09, 0.3, 0.1, 0.09]
    shown = [len(linker.update(boxes(walker(k, score=s)), IMAGE)) for k, s in enumerate(scores)]
    assert shown == [0, 0, 1, 1, 1]
    # a box under track_low_thresh is not considered at all
    assert len(HeadLinker(CONFIG, fps=2).update(boxes(walker(0, score=0.05)), IMAGE)) == 0


def test_a_missed_frame_is_bridged_and_a_long_absence_is_not() -> None:
    linker = HeadLinker(CONFIG, fps=2)  # track_buffer_s 1.0: two frames
    first = linker.update(boxes(walker(0, speed=12)), IMAGE).tracker_id
    linker.update(boxes(), IMAGE)  # missed once
    after_gap = linker.update(boxes(walker(2, speed=12)), IMAGE).tracker_id
    assert first is not None and after_gap is not None and after_gap[0] == first[0]
    for _ in range(3):  # gone for 1.5 s
        linker.update(boxes(), IMAGE)
    later = linker.update(boxes(walker(3, speed=12)), IMAGE).tracker_id
    assert later is not None and later[0] != first[0]


def test_two_people_side_by_side_keep_their_own_tracks() -> None:
    linker = HeadLinker(CONFIG, fps=2)
    tracks: dict[int, set[str]] = {0: set(), 1: set()}
    for step in range(5):
        shown = linker.update(boxes(walker(step, x0=100.0), walker(step, x0=100.0, y=300.0)), IMAGE)
        assert shown.tracker_id is not None and len(shown) == 2
        for k in (0, 1):
            row = int(np.argmin(np.abs(shown.xyxy[:, 1] - (200.0 if k == 0 else 300.0))))
            tracks[k].add(str(shown.tracker_id[row]))
    assert len(tracks[0]) == len(tracks[1]) == 1 and tracks[0] != tracks[1]


def test_a_box_of_a_very_different_height_is_someone_else() -> None:
    linker = HeadLinker(CONFIG, fps=2)
    a = linker.update(boxes((100, 200, 120, 240, 0.5)), IMAGE).tracker_id
    b = linker.update(boxes((100, 200, 150, 300, 0.5)), IMAGE).tracker_id  # 2.5x as tall
    assert a is not None and b is not None and a[0] != b[0]


def test_a_camera_gets_its_own_tracker_from_the_edge_config() -> None:
    config = EdgeConfig.model_validate(
        {"cameras": {"mall": {"tracker": {"type": "linker", "new_track_thresh": 0.15}}}}
    )
    assert config.tracker_for("mall").type == "linker"
    assert config.tracker_for("mall").new_track_thresh == 0.15
    assert config.tracker_for("other") == config.tracker
    mall = camera_pipeline(config, "mall", 2.0, embedder=None)
    other = camera_pipeline(config, "other", 2.0, embedder=None)
    assert isinstance(mall.tracker, HeadLinker)
    assert isinstance(other.tracker, BotSortTracker)


@pytest.mark.parametrize(
    ("tracker", "message"),
    [
        ({"type": "hungarian"}, r"cameras\.mall\.tracker: type: Input should be 'botsort'"),
        ({"link_gap": 1}, r"cameras\.mall\.tracker: link_gap: Extra inputs are not permitted"),
        ({"track_buffer_s": 40}, r"must exceed the time a lost track can still come back"),
    ],
)
def test_a_wrong_camera_tracker_is_one_sentence(tmp_path, tracker, message) -> None:
    from edge.config import load_edge_config

    path = tmp_path / "edge.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"cameras": {"mall": {"tracker": tracker}}}))
    with pytest.raises(EdgeConfigError, match=message) as info:
        load_edge_config(path)
    assert "\n" not in str(info.value)
    assert "Value error" not in str(info.value) and ": :" not in str(info.value)


def test_the_linker_at_a_high_frame_rate_says_botsort_tracks_better(caplog) -> None:
    with caplog.at_level("WARNING", logger="edge.linker"):
        HeadLinker(CONFIG, fps=2)
    assert not caplog.records
    with caplog.at_level("WARNING", logger="edge.linker"):
        HeadLinker(CONFIG, fps=25)
    assert "type: botsort tracks better" in caplog.text
