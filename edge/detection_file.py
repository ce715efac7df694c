"""People found upstream: MOTChallenge detection files (``frame,-1,x,y,w,h,score,…``).

A camera whose source is such a file (public-detection benchmarks, a camera without pixels
here) is replayed from it instead of from pixels: every frame's boxes come from the file, the
tracker, floor projection, tracklets and messages run as for any camera, and no Re-ID runs (there
are no crops). Rows: ``frame`` 1-based, ``x, y`` the box's top-left, ``w, h`` its size in pixels,
``score`` in [0, 1]; further columns are ignored. Scores below the detector's ``confidence``
setting are dropped, as the detector itself would drop them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.detection import Detections
from footfall.errors import UserError

DETECTION_FILE_SUFFIXES = frozenset({".txt", ".csv"})


class DetectionFileError(UserError, ValueError):
    """A detection file cannot be used; ``str()`` names the file, the problem and the fix."""


def is_detection_file(uri: str) -> bool:
    """True for a local ``.txt``/``.csv`` path: a MOTChallenge detection file, not footage."""
    return "://" not in uri and Path(uri).suffix.lower() in DETECTION_FILE_SUFFIXES


def load_detection_file(path: Path, min_score: float = 0.0) -> tuple[dict[int, Detections], int]:
    """Detections per 0-based frame index (file frame − 1), scores ≥ ``min_score`` only, and
    the frames the file covers (its last frame number: frames without people have no rows).

    Raises DetectionFileError with one sentence when the file is not MOTChallenge detections.
    """
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2, usecols=range(7))
    except OSError as exc:
        raise DetectionFileError(
            f"Detection file {path} cannot be read ({exc}); give a MOTChallenge det.txt."
        ) from None
    except ValueError as exc:
        raise DetectionFileError(
            f"Detection file {path} is not MOTChallenge detections "
            f"(frame,-1,x,y,w,h,score,… per line): {' '.join(str(exc).split())[:80]}."
        ) from None
    if len(rows) and (rows[:, 0].min() < 1 or (rows[:, 4:6] < 0).any()):
        raise DetectionFileError(
            f"Detection file {path} has a frame number below 1 or a negative box size; "
            "frames are counted from 1 and boxes are x,y,width,height in pixels."
        )
    total = int(rows[:, 0].max()) if len(rows) else 0
    rows = rows[rows[:, 6] >= min_score]
    out: dict[int, Detections] = {}
    order = np.argsort(rows[:, 0], kind="stable")
    rows = rows[order]
    frames, starts = np.unique(rows[:, 0].astype(np.int64), return_index=True)
    for frame, chunk in zip(frames.tolist(), np.split(rows, starts[1:]), strict=True):
        xyxy = np.column_stack([chunk[:, 2:4], chunk[:, 2:4] + chunk[:, 4:6]])
        out[frame - 1] = Detections(
            xyxy=xyxy.astype(np.float32),
            confidence=np.clip(chunk[:, 6], 0.0, 1.0).astype(np.float32),
        )
    return out, total
