"""What every camera source yields: :class:`Frame`, and the :class:`FrameSource` protocol.

At the bottom of the edge's sources: files, image folders and detection files
(:mod:`edge.sources`) and live streams (:mod:`edge.streams`) all build on it, and neither
imports the other's way back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from edge.detection import Detections


@dataclass(frozen=True)
class Frame:
    """One decoded camera frame.

    ``index``: 0-based position in the source; ``captured_at``: UTC capture time;
    ``image``: BGR uint8 (H, W, 3). A frame replayed from a detection file has no pixels:
    ``detections`` holds the people found upstream (the detector is not run on it), ``image`` is
    a blank image of the camera's size, and ``pixels`` is False (no Re-ID crops from it).
    """

    camera_id: str
    index: int
    captured_at: datetime
    image: np.ndarray
    detections: Detections | None = None
    pixels: bool = True


class FrameSource(Protocol):
    """An iterable of frames from one camera; ``close`` releases the device or file."""

    camera_id: str
    fps: float

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...
