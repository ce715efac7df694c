"""Annotated video: heads blurred, nothing else touched before drawing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from edge.annotate import AnnotatedVideoWriter, blur_heads
from edge.detection import Detections
from edge.frames import Frame
from edge.pipeline import CameraResult


def _noise(h: int = 240, w: int = 320) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), np.uint8)


def test_the_top_fifth_of_each_box_is_blurred_and_the_rest_kept() -> None:
    image = _noise()
    box = np.array([[100, 50, 160, 210]], np.float32)  # 160 px tall: head band y 50..82
    out = blur_heads(image, box, head_fraction=0.2)
    head, body = (slice(52, 80), slice(105, 155)), (slice(100, 200), slice(105, 155))
    assert out[head].std() < 0.5 * image[head].std()  # the noise is smoothed away
    assert np.array_equal(out[body], image[body])
    assert np.array_equal(out[:, :80], image[:, :80])


def test_the_writer_produces_a_readable_video(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    writer = AnnotatedVideoWriter(path, fps=10)
    tracks = Detections(
        np.array([[100, 50, 160, 210]], np.float32),
        np.array([0.9], np.float32),
        tracker_id=np.array(["abcdef0123456789"], dtype=object),
    )
    for i in range(3):
        frame = Frame("cam", i, datetime.now(UTC), _noise())
        writer(CameraResult(frame, tracks, None, []))
    writer.close()
    capture = cv2.VideoCapture(str(path))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape == (240, 320, 3)
