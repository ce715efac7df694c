"""Crowd count inside a region of interest: head points, the mask, MAE and MAPE."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from footfall.evaluation.crowd import count_people, head_points, inside

MASK = np.zeros((100, 200), bool)
MASK[:, :100] = True  # the left half of the image is the region of interest


def test_head_points_and_inside() -> None:
    boxes = np.array([[10.0, 10.0, 30.0, 60.0], [150.0, 10.0, 170.0, 60.0]])
    heads = head_points(boxes, 0.1)
    assert heads == pytest.approx(np.array([[20.0, 15.0], [160.0, 15.0]]))
    assert inside(MASK, heads).tolist() == [True, False]
    assert inside(MASK, np.array([[-5.0, 3.0], [300.0, 3.0]])).tolist() == [False, False]


def test_count_people_mae_and_mape(tmp_path: Path) -> None:
    files = []
    for i in range(4):
        files.append(tmp_path / f"seq_{i:06d}.jpg")
        cv2.imwrite(str(files[-1]), np.zeros((100, 200, 3), np.uint8))
    # Frame i has i + 1 heads in the ROI and one outside.
    heads = [
        np.array([[10.0 + 10 * k, 50.0] for k in range(i + 1)] + [[150.0, 50.0]]) for i in range(4)
    ]
    # The "detector" finds two people in the ROI and one outside, whatever the frame.
    found = np.array([[0.0, 40.0, 20.0, 90.0], [30.0, 40.0, 50.0, 90.0], [150, 40, 170, 90]])
    result = count_people(files, heads, MASK, lambda images: [found] * len(images), stride=1)
    assert result.true_counts == [1, 2, 3, 4]
    assert result.system_counts == [2, 2, 2, 2]
    assert result.mae == pytest.approx((1 + 0 + 1 + 2) / 4)
    assert result.mape == pytest.approx((1 / 1 + 0 + 1 / 3 + 2 / 4) / 4)
    assert result.bias == pytest.approx(-0.5)
    strided = count_people(files, heads, MASK, lambda images: [found] * len(images), stride=2)
    assert strided.frames == [1, 3]


def test_counted_by_tracks_a_person_the_detector_misses_for_a_frame_still_counts(
    tmp_path: Path,
) -> None:
    from edge.config import TrackerConfig
    from edge.detection import Detections
    from edge.linker import HeadLinker

    files = []
    for i in range(5):
        files.append(tmp_path / f"seq_{i:06d}.jpg")
        cv2.imwrite(str(files[-1]), np.zeros((100, 200, 3), np.uint8))
    heads = [np.array([[20.0 + 4 * i, 44.0]]) for i in range(5)]  # one person, walking right
    person = [np.array([[10.0 + 4 * i, 40.0, 30.0 + 4 * i, 80.0, 0.6]]) for i in range(5)]
    person[2] = np.zeros((0, 5))  # missed in the middle frame
    linker = HeadLinker(
        TrackerConfig(type="linker", track_low_thresh=0.1, new_track_thresh=0.5), fps=2
    )

    def track(found: np.ndarray, image: np.ndarray) -> tuple[list[str], np.ndarray]:
        dets = Detections(
            xyxy=found[:, :4].astype(np.float32), confidence=found[:, 4].astype(np.float32)
        )
        shown = linker.update(dets, image)
        assert shown.tracker_id is not None
        return [str(t) for t in shown.tracker_id], shown.xyxy

    frames = iter(range(5))

    def detect(images: list[np.ndarray]) -> list[np.ndarray]:
        return [person[next(frames)] for _ in images]

    result = count_people(files, heads, MASK, detect, stride=2, track=track, batch=1)
    assert result.frames == [1, 3, 5]  # every 2nd frame evaluated, all 5 tracked
    assert result.counted_by == "tracks" and result.frames_processed == 5
    assert result.box_counts == [1, 0, 1]  # the box count misses the middle one
    assert result.system_counts == [1, 1, 1]  # the track spans it
    assert result.as_dict()["by_boxes"]["mape"] == pytest.approx(1 / 3)


def test_span_points_interpolate_between_sightings_and_stop_at_the_ends() -> None:
    from footfall.evaluation.crowd import span_points

    seen = {"a": {0: np.array([0.0, 0.0, 10.0, 20.0]), 4: np.array([40.0, 0.0, 50.0, 20.0])}}
    spans = span_points(seen, [0, 2, 4, 6], 0.1)
    assert spans[2] == pytest.approx(np.array([[25.0, 2.0]]))  # halfway, head 10 % down
    assert len(spans[6]) == 0 and len(spans[0]) == 1


def test_a_tracks_count_needs_the_frame_rate() -> None:
    from pydantic import ValidationError

    from footfall.evaluation.manifest import CrowdEntry

    with pytest.raises(ValidationError, match="count: tracks needs the frames' rate"):
        CrowdEntry(name="mall", frames="f", gt="g", roi="r", count="tracks")
