"""Person detections: the edge's one in-memory currency for boxes, and the YOLOv8 adapter.

``Detections`` holds parallel numpy arrays (supervision-style). ``YoloPersonDetector`` is the only
place that touches ultralytics result objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

COCO_PERSON = 0


@dataclass(frozen=True)
class Detections:
    """Boxes found in one image.

    ``xyxy``: float32 (N, 4) pixel corners x1, y1, x2, y2; ``confidence``: float32 (N,) in [0, 1].
    """

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    @classmethod
    def from_ultralytics(cls, result: Any) -> Detections:
        """Convert one ultralytics ``Results`` object (duck-typed: ``.boxes.xyxy``/``.conf``)."""
        boxes = result.boxes
        return cls(
            xyxy=boxes.xyxy.cpu().numpy().astype(np.float32).reshape(-1, 4),
            confidence=boxes.conf.cpu().numpy().astype(np.float32).reshape(-1),
        )


class YoloPersonDetector:
    """YOLOv8 (ultralytics) restricted to the COCO ``person`` class.

    ``weights``: a local file path (never a bare model name: that would trigger a download).
    ``image_size``: inference size in pixels; ``confidence``: minimum score kept.
    """

    def __init__(
        self, weights: Path, image_size: int = 640, confidence: float = 0.25, device: str = "cpu"
    ) -> None:
        from ultralytics import YOLO  # type: ignore[attr-defined]

        self._model = YOLO(str(weights), task="detect")
        self.image_size = image_size
        self.confidence = confidence
        self.device = device

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        """Detect people in a batch of BGR images (H, W, 3 uint8), one ``Detections`` each."""
        results = self._model.predict(
            images,
            imgsz=self.image_size,
            conf=self.confidence,
            classes=[COCO_PERSON],
            device=self.device,
            verbose=False,
        )
        return [Detections.from_ultralytics(r) for r in results]
