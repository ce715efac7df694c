"""MOTChallenge result files: ``frame,id,x,y,w,h,conf,X,Y,-1`` rows, frames counted from 1.

``X, Y`` are the feet on the floor in metres when the camera is calibrated, else ``-1, -1``.

The random hex track ids of a run are numbered 1, 2, … in order of first appearance: MOT tools
want integers, and the numbers mean nothing outside the file.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TextIO

import numpy as np

from edge.detection import Detections


class MotWriter:
    """Writes tracked ``Detections`` frame by frame to a MOTChallenge text file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w")
        self._numbers: dict[str, int] = {}
        self.rows = 0

    def write(
        self, frame_index: int, tracks: Detections, floor_xy: np.ndarray | None = None
    ) -> None:
        """``frame_index``: 0-based source frame (written as ``frame_index + 1``); ``floor_xy``:
        (N, 2) floor metres, written in the world x, y columns (else -1, -1)."""
        if tracks.tracker_id is None:
            raise ValueError("MotWriter needs tracked Detections (tracker_id set).")
        for i, tid in enumerate(tracks.tracker_id):
            x1, y1, x2, y2 = tracks.xyxy[i]
            number = self._numbers.setdefault(str(tid), len(self._numbers) + 1)
            world = "-1,-1"
            if floor_xy is not None and np.isfinite(floor_xy[i]).all():
                world = f"{floor_xy[i][0]:.3f},{floor_xy[i][1]:.3f}"
            self._file.write(
                f"{frame_index + 1},{number},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                f"{tracks.confidence[i]:.4f},{world},-1\n"
            )
            self.rows += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
