"""Person detections: the edge's one in-memory currency for boxes and tracks; the YOLO adapter.

``Detections`` holds parallel numpy arrays (supervision-style) and is what every stage takes and
returns: the detector fills ``xyxy``/``confidence``, the embedder ``embedding``, the tracker
``tracker_id``. ``YoloPersonDetector`` is the only place that touches ultralytics result objects;
it runs any model ultralytics can load: PyTorch ``.pt`` (CPU, or CUDA with FP16), ONNX
(ONNX Runtime) or an OpenVINO model folder (see :mod:`edge.detection_export`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

COCO_PERSON = 0


def _no_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def _no_scores() -> np.ndarray:
    return np.zeros((0,), np.float32)


def head_points(xyxy: np.ndarray, head_fraction: float = 0.1) -> np.ndarray:
    """(N, 2) head points of (N, 4) person boxes: top-centre, ``head_fraction`` of h down."""
    return np.column_stack(
        [(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 1] + head_fraction * (xyxy[:, 3] - xyxy[:, 1])]
    )


@dataclass(frozen=True)
class Detections:
    """Boxes found in one image, optionally tracked and embedded.

    ``xyxy``: float32 (N, 4) pixel corners x1, y1, x2, y2; ``confidence``: float32 (N,) in [0, 1];
    ``tracker_id``: (N,) str, the random local track id of each box (None before tracking);
    ``embedding``: float32 (N, D) L2-normalised appearance vectors (None before Re-ID; a zero row
    is a box without one); ``fresh``: (N,) bool, True where the embedding was computed from this
    frame's crop rather than carried over from the box's track (None: all fresh).
    """

    xyxy: np.ndarray = field(default_factory=_no_boxes)
    confidence: np.ndarray = field(default_factory=_no_scores)
    tracker_id: np.ndarray | None = None
    embedding: np.ndarray | None = None
    fresh: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: np.ndarray | slice) -> Detections:
        """Rows selected by a boolean mask, an index array or a slice."""
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
            embedding=None if self.embedding is None else self.embedding[index],
            fresh=None if self.fresh is None else self.fresh[index],
        )

    def with_embedding(self, embedding: np.ndarray, fresh: np.ndarray | None = None) -> Detections:
        vectors = np.asarray(embedding, np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(self):
            raise ValueError(f"need ({len(self)}, D) embeddings, got {vectors.shape}")
        mask = None if fresh is None else np.asarray(fresh, bool).reshape(len(self))
        return replace(self, embedding=vectors, fresh=mask)

    def clipped(self, width: int, height: int) -> Detections:
        """Boxes clipped to a ``width`` x ``height`` image; boxes left empty are dropped."""
        xyxy = self.xyxy.copy()
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, width)
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, height)
        keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
        return replace(self, xyxy=xyxy)[keep]

    def bottom_centres(self) -> np.ndarray:
        """(N, 2) pixel points at the middle of each box's bottom edge (the feet)."""
        return np.column_stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]])

    @classmethod
    def from_ultralytics(cls, result: Any) -> Detections:
        """Convert one ultralytics ``Results`` object (duck-typed: ``.boxes.xyxy``/``.conf``)."""
        boxes = result.boxes
        return cls(
            xyxy=boxes.xyxy.cpu().numpy().astype(np.float32).reshape(-1, 4),
            confidence=boxes.conf.cpu().numpy().astype(np.float32).reshape(-1),
        )


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of two sets of xyxy boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9))


class Detector(Protocol):
    """Finds people in a batch of BGR images (one ``Detections`` per image, same order)."""

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


class YoloPersonDetector:
    """YOLOv8 (ultralytics) restricted to the COCO ``person`` class.

    ``weights``: a local ``.pt`` file, ``.onnx`` file or OpenVINO model folder (never a bare model
    name: that would trigger a download). ``image_size``: inference size in pixels;
    ``confidence``: minimum score kept; ``device``: ``cpu`` or ``cuda[:N]``; ``half``: FP16
    (CUDA only).
    """

    def __init__(
        self,
        weights: Path,
        image_size: int = 640,
        confidence: float = 0.25,
        device: str = "cpu",
        half: bool = False,
        iou: float = 0.7,
    ) -> None:
        from ultralytics import YOLO  # type: ignore[attr-defined]

        self._model = YOLO(str(weights), task="detect")
        self.image_size = image_size
        self.confidence = confidence
        self.device = device
        self.half = half and device.startswith("cuda")
        self.iou = iou

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in a batch of BGR images (H, W, 3 uint8), one ``Detections`` each.

        The whole batch (e.g. one frame from each of several cameras) is one inference call.
        """
        if not images:
            return []
        options: dict[str, Any] = {"half": True} if self.half else {}
        results = self._model.predict(
            list(images),
            imgsz=self.image_size,
            conf=self.confidence,
            iou=self.iou,
            classes=[COCO_PERSON],
            device=self.device,
            verbose=False,
            **options,
        )
        return [Detections.from_ultralytics(r) for r in results]
