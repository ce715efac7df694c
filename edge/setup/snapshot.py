"""A camera snapshot for the set-up page: one frame with every detected person's head blurred,
undistorted when the camera has lens distortion (so clicked points are the undistorted pixels
the homography takes), and where the people's feet are.

Privacy: the frame is blurred before it is encoded, and the JPEG is only served by the edge node's
own set-up page; it is never written to disk or sent to the cloud. A detection file (a camera
without pixels) gives a blank frame with the file's boxes outlined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from edge.annotate import blur_heads
from edge.detection import Detections
from edge.detection_file import is_detection_file
from edge.geometry import undistort_points
from edge.sources import DetectionFileSource, SourceError, read_frame
from footfall.site import Distortion

JPEG_QUALITY = 85


class PeopleDetector(Protocol):
    """Finds people in BGR images (``edge.detection.YoloPersonDetector`` or a test twin)."""

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


@dataclass(frozen=True)
class Snapshot:
    """``jpeg``: the shown frame; ``feet_px``: (N, 2) undistorted pixels of each person's feet."""

    jpeg: bytes
    width: int
    height: int
    feet_px: np.ndarray
    pixels: bool


def undistort_image(image: np.ndarray, distortion: Distortion | None) -> np.ndarray:
    """The frame in undistorted pixels with the same intrinsics (``P = K``), as the edge's
    :func:`~edge.geometry.undistort_points` maps points."""
    if distortion is None:
        return image
    k = np.asarray(distortion.camera_matrix, np.float64)
    coefficients = np.asarray(distortion.coefficients, np.float64)
    if distortion.model.value == "fisheye":
        return np.asarray(cv2.fisheye.undistortImage(image, k, coefficients, Knew=k))
    return np.asarray(cv2.undistort(image, k, coefficients, newCameraMatrix=k))


def _encode(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise SourceError("The snapshot could not be encoded as JPEG.")
    return bytes(data.tobytes())


def _detection_file_frame(
    source: str, camera_id: str, index: int, resolution: tuple[int, int], fps: float
) -> tuple[np.ndarray, Detections]:
    file = DetectionFileSource(source, camera_id, resolution=resolution, fps=fps)
    count = file.frame_count() or 0
    if not 0 <= index < count:
        raise SourceError(
            f"Camera {camera_id}: there is no frame {index} in {source}: it has {count} frames; "
            f"pick a frame from 0 to {count - 1}."
        )
    found = file.detections.get(index, Detections())
    width, height = resolution
    image = np.full((height, width, 3), 48, np.uint8)
    for x1, y1, x2, y2 in found.xyxy.astype(int):
        cv2.rectangle(image, (x1, y1), (x2, y2), (200, 200, 200), 1)
    cv2.putText(
        image, "detection file: no pixels", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
        (220, 220, 220), 2,
    )  # fmt: skip
    return image, found


def take_snapshot(
    source: str,
    camera_id: str,
    *,
    frame_index: int,
    detector: PeopleDetector | None,
    resolution: tuple[int, int],
    fps: float,
    distortion: Distortion | None = None,
    head_fraction: float = 0.2,
) -> Snapshot:
    """Frame ``frame_index`` of ``source`` (video file, image folder, stream or detection file)
    with heads blurred and lens distortion removed. ``detector`` is required for pixels."""
    if is_detection_file(source.removeprefix("file://")):
        image, found = _detection_file_frame(source, camera_id, frame_index, resolution, fps)
        pixels = False
    else:
        if detector is None:
            raise SourceError(
                f"Camera {camera_id}: a snapshot needs the person detector to blur heads."
            )
        frame = read_frame(source, camera_id, frame_index)
        (found,) = detector.detect([frame])
        image = blur_heads(frame, found.xyxy, head_fraction)
        pixels = True
    shown = undistort_image(image, distortion)
    feet = undistort_points(found.bottom_centres(), distortion) if len(found) else np.zeros((0, 2))
    height, width = shown.shape[:2]
    return Snapshot(_encode(shown), width, height, np.asarray(feet, np.float64), pixels)
