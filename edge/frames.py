"""What every camera source yields: :class:`Frame`, and the :class:`FrameSource` protocol.

At the bottom of the edge's sources: files and image folders (:mod:`edge.sources`) and live
streams (:mod:`edge.streams`) both build on it, and neither imports the other's way back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One decoded camera frame.

    ``index``: 0-based position in the source; ``captured_at``: UTC capture time;
    ``image``: BGR uint8 (H, W, 3).
    """

    camera_id: str
    index: int
    captured_at: datetime
    image: np.ndarray


class FrameSource(Protocol):
    """An iterable of frames from one camera; ``close`` releases the device or file."""

    camera_id: str
    fps: float

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...
