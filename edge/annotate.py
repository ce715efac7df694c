"""Annotated video: boxes, short track numbers and blurred heads, written on the node only.

Privacy: every person box has its top part (``head_fraction`` of its height, default 20 %)
blurred before anything is drawn, so no written image shows a recognisable face. Pixels never
leave the node through the wire contract; this video is a local debugging aid.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.detection import Detections
from edge.pipeline import CameraResult
from footfall.errors import UserError


class AnnotationError(UserError, RuntimeError):
    """The annotated video cannot be written; ``str()`` is one sentence with the fix."""


def blur_heads(image: np.ndarray, xyxy: np.ndarray, head_fraction: float = 0.2) -> np.ndarray:
    """A copy of ``image`` with the top ``head_fraction`` of each box strongly blurred."""
    out = image.copy()
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in np.asarray(xyxy).reshape(-1, 4):
        bw, bh = x2 - x1, y2 - y1
        # a little wider than the box: heads stick out of loose boxes
        ax1, ax2 = int(max(0, x1 - 0.1 * bw)), int(min(w, x2 + 0.1 * bw))
        ay1, ay2 = int(max(0, y1 - 0.05 * bh)), int(min(h, y1 + head_fraction * bh))
        if ax2 - ax1 < 2 or ay2 - ay1 < 2:
            continue
        region = out[ay1:ay2, ax1:ax2]
        k = max(3, (max(region.shape[:2]) // 2) | 1)
        small = cv2.resize(region, (max(1, region.shape[1] // 8), max(1, region.shape[0] // 8)))
        region[:] = cv2.GaussianBlur(
            cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST),
            (k, k),
            0,
        )
    return out


def _colour(number: int) -> tuple[int, int, int]:
    hue = (number * 47) % 180
    bgr = cv2.cvtColor(np.array([[[hue, 200, 255]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def draw(
    image: np.ndarray, tracks: Detections, numbers: dict[str, int], head_fraction: float
) -> np.ndarray:
    """Heads blurred first, then boxes and per-run track numbers drawn."""
    out = blur_heads(image, tracks.xyxy, head_fraction)
    ids = tracks.tracker_id if tracks.tracker_id is not None else [None] * len(tracks)
    for box, tid in zip(tracks.xyxy, ids, strict=True):
        x1, y1, x2, y2 = (int(np.rint(v)) for v in box)
        number = numbers.setdefault(str(tid), len(numbers) + 1) if tid is not None else 0
        colour = _colour(number)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2)
        if tid is not None:
            cv2.putText(
                out,
                str(number),
                (x1 + 2, max(12, y1 - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                colour,
                2,
            )
    return out


class AnnotatedVideoWriter:
    """Receives ``CameraResult``s (a replay callback) and writes an mp4 with heads blurred."""

    def __init__(self, path: Path, fps: float, head_fraction: float = 0.2) -> None:
        self.path = path
        self.fps = fps
        self.head_fraction = head_fraction
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._numbers: dict[str, int] = {}

    def __call__(self, result: CameraResult) -> None:
        image = draw(result.frame.image, result.tracks, self._numbers, self.head_fraction)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = image.shape[:2]
            fourcc = cv2.VideoWriter.fourcc(
                *("mp4v" if self.path.suffix.lower() == ".mp4" else "MJPG")
            )
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise AnnotationError(
                    f"Cannot write video {self.path}; use a .mp4 or .avi path in a writable folder."
                )
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
