"""Detection precision and recall, overall and per person-height band, and the detection sweep.

A box found is a true positive when it is matched one-to-one (Hungarian, IoU >= 0.5) to a
ground-truth box of the same frame. Bands are by apparent height as a fraction of the frame's
height, so a camera's weakness shows whatever its resolution: ``small`` under 1/8 of the frame
(72 px of PETS09's 576), ``medium`` 1/8 to 1/4, ``large`` above. Recall of a band counts the
ground-truth boxes of that height; precision counts the boxes found of that height.

``run_detection`` is the sweep's fast path: the detector alone (each camera's own plan: input
size, confidence, ROI, tiles) on every ``stride``-th frame of a sequence, the boxes the tracker
trusts (score >= ``tracker.track_high_thresh``) scored against the ground truth, and the
detector's frames per second.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BANDS: tuple[tuple[str, float, float], ...] = (
    ("small", 0.0, 1 / 8),
    ("medium", 1 / 8, 1 / 4),
    ("large", 1 / 4, float("inf")),
)
"""(name, lowest, highest) box height as a fraction of the frame height."""
MATCH_IOU = 0.5


def band_of(heights_px: np.ndarray, frame_height: int) -> np.ndarray:
    """Index into :data:`BANDS` of each box height."""
    fraction = np.asarray(heights_px, np.float64) / float(frame_height)
    edges = np.array([b[2] for b in BANDS[:-1]])
    return np.searchsorted(edges, fraction, side="right")


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9))


def match(
    gt: np.ndarray, found: np.ndarray, iou: float = MATCH_IOU
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches of (N, 4) and (M, 4) xyxy boxes at IoU >= ``iou``: boolean arrays
    (N,) ground truth matched and (M,) found matched."""
    from scipy.optimize import linear_sum_assignment

    gt_hit = np.zeros(len(gt), bool)
    found_hit = np.zeros(len(found), bool)
    if len(gt) and len(found):
        overlap = _iou(np.asarray(gt, np.float64), np.asarray(found, np.float64))
        rows, cols = linear_sum_assignment(-overlap)
        ok = overlap[rows, cols] >= iou
        gt_hit[rows[ok]] = True
        found_hit[cols[ok]] = True
    return gt_hit, found_hit


@dataclass
class DetectionScore:
    """Counts per band: matched and missed ground truth, matched and unmatched boxes found."""

    frame_height: int
    gt_hit: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    gt_miss: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    found_hit: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    found_miss: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    frames: int = 0

    def add(self, gt: np.ndarray, found: np.ndarray) -> None:
        """One frame: (N, 4) ground-truth and (M, 4) found xyxy boxes."""
        gt = np.asarray(gt, np.float64).reshape(-1, 4)
        found = np.asarray(found, np.float64).reshape(-1, 4)
        gt_ok, found_ok = match(gt, found)
        gt_band = band_of(gt[:, 3] - gt[:, 1], self.frame_height)
        found_band = band_of(found[:, 3] - found[:, 1], self.frame_height)
        n = len(BANDS)
        self.gt_hit += np.bincount(gt_band[gt_ok], minlength=n)
        self.gt_miss += np.bincount(gt_band[~gt_ok], minlength=n)
        self.found_hit += np.bincount(found_band[found_ok], minlength=n)
        self.found_miss += np.bincount(found_band[~found_ok], minlength=n)
        self.frames += 1

    @staticmethod
    def _ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    def as_dict(self) -> dict[str, Any]:
        tp, fn = int(self.gt_hit.sum()), int(self.gt_miss.sum())
        ftp, ffp = int(self.found_hit.sum()), int(self.found_miss.sum())
        bands = {}
        for i, (name, low, high) in enumerate(BANDS):
            bands[name] = {
                "height_fraction": [low, None if high == float("inf") else high],
                "gt_boxes": int(self.gt_hit[i] + self.gt_miss[i]),
                "found_boxes": int(self.found_hit[i] + self.found_miss[i]),
                "recall": self._ratio(self.gt_hit[i], self.gt_hit[i] + self.gt_miss[i]),
                "precision": self._ratio(self.found_hit[i], self.found_hit[i] + self.found_miss[i]),
            }
        return {
            "frames": self.frames,
            "gt_boxes": tp + fn,
            "found_boxes": ftp + ffp,
            "true_positives": tp,
            "recall": self._ratio(tp, tp + fn),
            "precision": self._ratio(ftp, ftp + ffp),
            "bands": bands,
        }


def xyxy_of_mot(rows: np.ndarray) -> np.ndarray:
    """(N, 4) xyxy of MOTChallenge rows (frame, id, left, top, width, height, …)."""
    rows = np.asarray(rows, np.float64)
    if rows.size == 0:
        return np.zeros((0, 4))
    return np.column_stack(
        [rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]]
    )


def score_mot(
    gt: np.ndarray, hyp: np.ndarray, frames: Iterable[int], frame_height: int
) -> dict[str, Any]:
    """Band precision / recall of MOT result rows against ground-truth rows, over ``frames``."""
    result = DetectionScore(frame_height)
    for frame in frames:
        result.add(xyxy_of_mot(gt[gt[:, 0] == frame]), xyxy_of_mot(hyp[hyp[:, 0] == frame]))
    return result.as_dict()


def run_detection(
    source: str,
    camera_id: str,
    gt: np.ndarray,
    config: Any,
    *,
    camera: Any = None,
    calibration: list[str],
    stride: int,
    max_frames: int | None = None,
    desc: str = "",
) -> dict[str, Any]:
    """The detector alone on every ``stride``-th frame of ``source`` (frames 1-based as in the
    ground truth), scored at ``config.tracker.track_high_thresh``; with its frames per second
    (detector time only, one frame per call as a single camera)."""
    from tqdm import tqdm

    from edge.detection_backends import build_camera_detector, weights_identity
    from edge.sources import FileSource

    detector = build_camera_detector(config, calibration, {camera_id: camera})
    detect = getattr(detector, "detect_cameras", None)
    min_score = config.tracker.track_high_thresh
    source_frames = FileSource(source, camera_id)
    total = source_frames.frame_count()
    if max_frames is not None and total is not None:
        total = min(total, max_frames)
    result: DetectionScore | None = None
    seconds, evaluated = 0.0, 0
    with tqdm(total=total, unit="frame", desc=desc or camera_id, dynamic_ncols=True) as bar:
        for frame in source_frames:
            number = frame.index + 1
            if max_frames is not None and number > max_frames:
                break
            bar.update(1)
            if frame.index % stride:
                continue
            if result is None:
                result = DetectionScore(frame.image.shape[0])
            started = time.perf_counter()
            if detect is not None:
                dets = detect([camera_id], [frame.image])[0]
            else:
                dets = detector.detect([frame.image])[0]
            if evaluated:  # the first call compiles the model
                seconds += time.perf_counter() - started
            evaluated += 1
            dets = dets[dets.confidence >= min_score]
            result.add(xyxy_of_mot(gt[gt[:, 0] == number]), dets.xyxy)
    source_frames.close()
    scores = result.as_dict() if result is not None else DetectionScore(1).as_dict()
    return {
        **scores,
        "stride": stride,
        "min_score": min_score,
        "fps": (evaluated - 1) / seconds if seconds > 0 else None,
        "detector": weights_identity(config.detector),
    }
