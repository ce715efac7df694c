"""The Detections currency and the YOLO adapter's inference size."""

from __future__ import annotations

import numpy as np

from edge.detection import Detections


def _dets() -> Detections:
    return Detections(
        xyxy=np.array([[-5, 10, 50, 100], [600, 400, 700, 500], [10, 10, 20, 20]], np.float32),
        confidence=np.array([0.9, 0.5, 0.2], np.float32),
        tracker_id=np.array(["a1", "b2", "c3"], dtype=object),
        embedding=np.eye(3, 64, dtype=np.float32),
    )


def test_selection_keeps_every_column_aligned() -> None:
    picked = _dets()[np.array([False, True, True])]
    assert len(picked) == 2
    assert list(picked.tracker_id) == ["b2", "c3"]  # type: ignore[arg-type]
    assert picked.embedding is not None and picked.embedding[1, 2] == 1.0
    assert picked.confidence.tolist() == [0.5, np.float32(0.2)]


def test_clipping_to_the_image_drops_boxes_left_empty() -> None:
    clipped = _dets().clipped(640, 480)
    assert clipped.xyxy[0].tolist() == [0, 10, 50, 100]
    assert clipped.xyxy[1].tolist() == [600, 400, 640, 480]
    outside = Detections(np.array([[700, 10, 800, 50]], np.float32), np.array([0.9], np.float32))
    assert len(outside.clipped(640, 480)) == 0


def test_feet_are_the_bottom_centres() -> None:
    assert _dets().bottom_centres()[1].tolist() == [650, 500]
