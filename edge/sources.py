"""Opening camera sources (video files, image folders, streams) with clear errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


class SourceError(RuntimeError):
    """A camera source cannot be read; ``str()`` names the camera, the source and the fix."""


def _is_stream(uri: str) -> bool:
    return uri.split("://", 1)[0].lower() in {"rtsp", "rtsps", "http", "https", "rtmp"}


def read_frame(uri: str, camera_id: str, index: int = 0) -> np.ndarray:
    """Read frame ``index`` (0-based) of a video file, an ``img1/``-style folder, or a stream.

    Returns a BGR uint8 image. Raises SourceError with one sentence when it cannot be read.
    """
    if not _is_stream(uri):
        path = Path(uri.removeprefix("file://"))
        if not path.exists():
            raise SourceError(
                f"Camera {camera_id}: source {path} does not exist; "
                "fix `source` in the site config."
            )
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.suffix.lower() in {".jpg", ".png"})
            if not images:
                raise SourceError(
                    f"Camera {camera_id}: folder {path} holds no .jpg/.png frames; point `source` "
                    "at a video file or an img1/ folder."
                )
            frame = cv2.imread(str(images[min(index, len(images) - 1)]))
            if frame is None:
                raise SourceError(f"Camera {camera_id}: cannot decode {images[index]}.")
            return frame
        uri = str(path)
    capture = cv2.VideoCapture(uri)
    try:
        if not capture.isOpened():
            raise SourceError(
                f"Camera {camera_id}: cannot open {uri}; check the path or URL and that the "
                "format is a video OpenCV can decode (mp4, avi, mpg) or a reachable stream."
            )
        if index > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        if not ok or frame is None:
            raise SourceError(
                f"Camera {camera_id}: {uri} opened but no frame {index} could be decoded; the "
                "file may be truncated or use an unsupported codec."
            )
        return np.asarray(frame)
    finally:
        capture.release()
