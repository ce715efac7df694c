"""A stand-in detector for the tiling tests: one 'person' per white block of the image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.detection import Detections


class BlockDetector:
    """Finds one 'person' wherever a white block is, in crop pixels; records every call (the
    shape of each image it was given)."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[int, int]]] = []

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        self.calls.append([img.shape[:2] for img in images])
        out = []
        for img in images:
            ys, xs = np.nonzero(img[..., 0] > 200)
            if len(xs) == 0:
                out.append(Detections())
                continue
            box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
            out.append(Detections(xyxy=box, confidence=np.array([0.9], np.float32)))
        return out
