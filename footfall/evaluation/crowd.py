"""Crowd count: people per frame inside a region of interest, against head annotations (Mall).

The Mall dataset annotates every head as a point; its ROI (``perspective_roi.mat``) is a pixel
mask. The true count of a frame is the number of annotated heads inside the mask (this equals
the dataset's own ``count`` on 1999 of its 2000 frames). The system's count is the number of
detected people whose head point (box top-centre, ``head_fraction`` of the box height down)
falls inside the mask. MAE and MAPE are over the evaluated frames.

Counted by tracks (a crowd entry's ``count: tracks``), the camera's tracker runs over every
frame up to the last evaluated one, and a person is counted at a frame when their track's
first and last sightings span it (the head point interpolated over the frames between), as the
cloud counts occupancy from a track's zone visit; the box count is kept beside it.

Detection per person-height band on head points (:func:`match_heads`): the perspective map
``pMapN`` is a pixel weight that goes as 1 / (person height)², so a person's height in pixels at
a point is ``person_px / sqrt(pMapN)`` there (``person_px``: the height where pMapN is 1; 150 px
on the Mall). A true head is found when it is matched one-to-one (Hungarian, nearest first) to a
box whose upper third contains it, or whose head point is within a fifth of the person's
height; heads and boxes are banded by that height with the box metrics' bands (small under 1/8
of the frame height, medium, large). Recall counts the heads inside the ROI, precision the boxes
counted (head point inside the ROI).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from edge.detection import head_points
from footfall.errors import UserError
from footfall.evaluation.detection import BANDS, band_of

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
DISTANCE_BANDS = ("far", "middle", "near")
UPPER_PART = 1 / 3
"""A head inside the top third of a box (horizontally inside it) may be that box's person."""
NEAR_FRACTION = 0.2
"""A head this fraction of the person's height from a box's head point may be its person."""


Track = Callable[[np.ndarray, np.ndarray], tuple[Sequence[str], np.ndarray]]
"""A camera's tracker for the crowd count: a frame's (N, 5) boxes and its image to the ids and
(M, 4) boxes of the tracks it shows in that frame."""


class CrowdDataError(UserError, ValueError):
    """Crowd data cannot be read; ``str()`` is one sentence with the fix."""


@dataclass(frozen=True)
class CrowdResult:
    frames: list[int]
    """1-based frame numbers evaluated."""
    true_counts: list[int]
    system_counts: list[int]
    seconds: float
    band_true: list[list[int]] = field(default_factory=list)
    """Per frame, true counts per distance band (far, middle, near); empty without bands."""
    band_system: list[list[int]] = field(default_factory=list)
    band_names: tuple[str, ...] = DISTANCE_BANDS
    band_edges: tuple[float, ...] = ()
    heads: dict[str, HeadScore] = field(default_factory=dict)
    """Heads found per person-height band, by name of the lowest score kept (with a
    perspective map and ``person_px``)."""
    counted_by: str = "boxes"
    """boxes: a frame's boxes; tracks: the tracks whose life spans the frame."""
    box_counts: list[int] = field(default_factory=list)
    """Counted by tracks: the frame's box count beside it."""
    frames_processed: int = 0
    """Frames detected (and tracked): with tracks every frame up to the last evaluated one."""

    @property
    def mae(self) -> float:
        return float(np.mean(np.abs(np.subtract(self.system_counts, self.true_counts))))

    @property
    def mape(self) -> float:
        true = np.asarray(self.true_counts, float)
        err = np.abs(np.asarray(self.system_counts, float) - true)
        return float(np.mean(err[true > 0] / true[true > 0]))

    @property
    def bias(self) -> float:
        """Mean of system minus true (negative: the system undercounts)."""
        return float(np.mean(np.subtract(self.system_counts, self.true_counts)))

    @property
    def fps(self) -> float:
        """Frames detected (and tracked) per second."""
        done = self.frames_processed or len(self.frames)
        return done / self.seconds if self.seconds > 0 else 0.0

    def distance(self) -> dict[str, Any]:
        """MAE, MAPE, bias and found/true ratio of the count in each distance band."""
        if not self.band_true:
            return {}
        true = np.asarray(self.band_true, float)
        system = np.asarray(self.band_system, float)
        out: dict[str, Any] = {"perspective_edges": list(self.band_edges)}
        for i, name in enumerate(self.band_names):
            t, s = true[:, i], system[:, i]
            err = np.abs(s - t)
            out[name] = {
                "true_mean": float(t.mean()),
                "system_mean": float(s.mean()),
                "mae": float(err.mean()),
                "mape": float(np.mean(err[t > 0] / t[t > 0])) if (t > 0).any() else None,
                "bias": float((s - t).mean()),
                "found_ratio": float(s.sum() / t.sum()) if t.sum() else None,
            }
        return out

    def as_dict(self) -> dict[str, Any]:
        boxes: dict[str, Any] = {}
        if self.box_counts:
            by_box = CrowdResult(self.frames, self.true_counts, self.box_counts, self.seconds)
            boxes = {"mae": by_box.mae, "mape": by_box.mape, "bias": by_box.bias}
        return {
            "counted_by": self.counted_by,
            "by_boxes": boxes,
            "distance": self.distance(),
            "detection": {name: h.as_dict() for name, h in self.heads.items()},
            "frames_evaluated": len(self.frames),
            "frames_processed": self.frames_processed or len(self.frames),
            "mae": self.mae,
            "mape": self.mape,
            "bias": self.bias,
            "true_mean": float(np.mean(self.true_counts)),
            "system_mean": float(np.mean(self.system_counts)),
            "fps": self.fps,
            "per_frame": {
                "frame": self.frames,
                "true": self.true_counts,
                "system": self.system_counts,
            },
        }


@dataclass
class HeadScore:
    """Heads found and boxes right per person-height band (:data:`BANDS`), over frames."""

    frame_height: int
    person_px: float
    min_score: float = 0.0
    """Boxes scoring below this are left out."""
    head_hit: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    head_miss: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    box_hit: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    box_miss: np.ndarray = field(default_factory=lambda: np.zeros(len(BANDS), int))
    scale: list[float] = field(default_factory=list)
    """Per matched box scoring >= 0.5: its height over the perspective's person height."""

    def add(
        self,
        heads: np.ndarray,
        head_heights: np.ndarray,
        boxes: np.ndarray,
        box_heights: np.ndarray,
        heads_counted: np.ndarray,
        boxes_counted: np.ndarray,
        head_fraction: float,
        scores: np.ndarray | None = None,
    ) -> None:
        """One frame: every head and box, matched; ``*_counted``: those inside the ROI."""
        if scores is not None and self.min_score > 0:
            kept = np.asarray(scores) >= self.min_score
            boxes, box_heights = boxes[kept], box_heights[kept]
            boxes_counted, scores = boxes_counted[kept], np.asarray(scores)[kept]
        head_ok, box_ok = match_heads(heads, head_heights, boxes, head_fraction)
        n = len(BANDS)
        head_band = band_of(head_heights, self.frame_height)
        box_band = band_of(box_heights, self.frame_height)
        h, b = heads_counted, boxes_counted
        self.head_hit += np.bincount(head_band[h & head_ok], minlength=n)
        self.head_miss += np.bincount(head_band[h & ~head_ok], minlength=n)
        self.box_hit += np.bincount(box_band[b & box_ok], minlength=n)
        self.box_miss += np.bincount(box_band[b & ~box_ok], minlength=n)
        if scores is not None and len(boxes):
            sure = box_ok & (np.asarray(scores) >= 0.5)
            self.scale += ((boxes[sure, 3] - boxes[sure, 1]) / box_heights[sure]).tolist()

    def as_dict(self) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float | None:
            return float(a / b) if b else None

        tp, fn = int(self.head_hit.sum()), int(self.head_miss.sum())
        btp, bfp = int(self.box_hit.sum()), int(self.box_miss.sum())
        bands = {}
        for i, (name, low, high) in enumerate(BANDS):
            low_px, high_px = low * self.frame_height, high * self.frame_height
            bands[name] = {
                "height_px": [low_px, None if high == float("inf") else high_px],
                "gt_heads": int(self.head_hit[i] + self.head_miss[i]),
                "found_boxes": int(self.box_hit[i] + self.box_miss[i]),
                "recall": ratio(self.head_hit[i], self.head_hit[i] + self.head_miss[i]),
                "precision": ratio(self.box_hit[i], self.box_hit[i] + self.box_miss[i]),
            }
        return {
            "rule": (
                f"head matched one-to-one to a box whose top {UPPER_PART:.2f} contains it or "
                f"whose head point is within {NEAR_FRACTION:g} x the person's height"
            ),
            "person_px": self.person_px,
            "min_score": self.min_score,
            "gt_heads": tp + fn,
            "found_boxes": btp + bfp,
            "recall": ratio(tp, tp + fn),
            "precision": ratio(btp, btp + bfp),
            "box_over_perspective_height": (float(np.median(self.scale)) if self.scale else None),
            "bands": bands,
        }


def match_heads(
    heads: np.ndarray, head_heights: np.ndarray, boxes: np.ndarray, head_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matches of (N, 2) head points (people ``head_heights`` px tall) and (M, 4)
    boxes: a pair may match when the head is inside the box's upper third, or within
    :data:`NEAR_FRACTION` of the person's height of the box's head point; among those, the
    matching with the least total distance (relative to the person's height) is taken.
    Boolean arrays (N,) heads found and (M,) boxes matched."""
    from scipy.optimize import linear_sum_assignment

    heads = np.asarray(heads, np.float64).reshape(-1, 2)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    head_ok = np.zeros(len(heads), bool)
    box_ok = np.zeros(len(boxes), bool)
    if not len(heads) or not len(boxes):
        return head_ok, box_ok
    points = head_points(boxes, head_fraction)
    gap = np.linalg.norm(heads[:, None, :] - points[None, :, :], axis=2)
    gap /= np.maximum(np.asarray(head_heights, np.float64), 1.0)[:, None]
    x, y = heads[:, None, 0], heads[:, None, 1]
    top, tall = boxes[None, :, 1], boxes[None, :, 3] - boxes[None, :, 1]
    upper = (x >= boxes[None, :, 0]) & (x <= boxes[None, :, 2])
    upper &= (y >= top) & (y <= top + UPPER_PART * tall)
    allowed = upper | (gap <= NEAR_FRACTION)
    cost = np.where(allowed, gap, 1e6)
    rows, cols = linear_sum_assignment(cost)
    ok = allowed[rows, cols]
    head_ok[rows[ok]] = True
    box_ok[cols[ok]] = True
    return head_ok, box_ok


def person_heights(perspective: np.ndarray, points: np.ndarray, person_px: float) -> np.ndarray:
    """Height in pixels of a person at each (N, 2) point: ``person_px / sqrt(pMapN)``."""
    if not len(points):
        return np.zeros(0)
    return np.asarray(person_px / np.sqrt(perspective_at(perspective, points)), np.float64)


def load_mall(gt_mat: Path, roi_mat: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Head points (N, 2) per frame, in pixels, and the ROI mask (H, W) as booleans."""
    import scipy.io

    try:
        gt = scipy.io.loadmat(str(gt_mat))
        roi = scipy.io.loadmat(str(roi_mat))
        heads = [np.asarray(f["loc"][0, 0], np.float64).reshape(-1, 2) for f in gt["frame"][0]]
        mask = np.asarray(roi["roi"][0, 0]["mask"], bool)
    except (OSError, KeyError, IndexError, ValueError) as exc:
        raise CrowdDataError(
            f"{gt_mat} / {roi_mat} are not the Mall dataset's mall_gt.mat and perspective_roi.mat "
            f"({exc}); point the manifest at those files."
        ) from None
    return heads, mask


def load_perspective(roi_mat: Path) -> np.ndarray:
    """The Mall dataset's perspective map ``pMapN`` (H, W): larger where people look smaller
    (farther from the camera)."""
    import scipy.io

    try:
        return np.asarray(scipy.io.loadmat(str(roi_mat))["pMapN"], np.float64)
    except (OSError, KeyError, ValueError) as exc:
        raise CrowdDataError(
            f"{roi_mat} has no perspective map pMapN ({exc}); point the manifest at the Mall "
            "dataset's perspective_roi.mat."
        ) from None


def distance_edges(
    perspective: np.ndarray, heads: Sequence[np.ndarray], mask: np.ndarray
) -> tuple[float, float]:
    """Perspective values splitting the annotated people inside the ROI into thirds: far
    (above the first), middle, near (below the second)."""
    values = np.concatenate(
        [perspective_at(perspective, h[inside(mask, h)]) for h in heads if len(h)] or [np.zeros(1)]
    )
    high, low = np.quantile(values, [2 / 3, 1 / 3])
    return float(high), float(low)


def perspective_at(perspective: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The perspective value at (N, 2) pixel points (clamped to the image)."""
    h, w = perspective.shape
    u = np.clip(np.floor(points[:, 0]).astype(int), 0, w - 1)
    v = np.clip(np.floor(points[:, 1]).astype(int), 0, h - 1)
    return np.asarray(perspective[v, u], np.float64)


def band_counts(
    perspective: np.ndarray, edges: tuple[float, float], points: np.ndarray
) -> list[int]:
    """How many of (N, 2) points fall in the far, middle and near bands."""
    values = perspective_at(perspective, points) if len(points) else np.zeros(0)
    far = values > edges[0]
    near = values <= edges[1]
    return [int(far.sum()), int((~far & ~near).sum()), int(near.sum())]


def inside(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Which (N, 2) pixel points fall inside the boolean mask (outside the image: no)."""
    if not len(points):
        return np.zeros(0, bool)
    h, w = mask.shape
    u = np.floor(points[:, 0]).astype(int)
    v = np.floor(points[:, 1]).astype(int)
    ok = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    out = np.zeros(len(points), bool)
    out[ok] = mask[v[ok], u[ok]]
    return out


def frame_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise CrowdDataError(f"{folder} holds no images; point the manifest at the frames folder.")
    return files


def count_people(
    files: Sequence[Path],
    heads: Sequence[np.ndarray],
    mask: np.ndarray,
    detect: Callable[[list[np.ndarray]], list[np.ndarray]],
    *,
    stride: int = 1,
    max_frames: int | None = None,
    head_fraction: float = 0.1,
    batch: int = 4,
    desc: str = "crowd",
    perspective: np.ndarray | None = None,
    person_px: float | None = None,
    min_scores: dict[str, float] | None = None,
    track: Track | None = None,
) -> CrowdResult:
    """Detect people on every ``stride``-th frame; ``detect`` maps images to (N, 4) boxes, or
    to (N, 5) boxes with their scores as a fifth column.

    With a ``perspective`` map the count is also split by distance (far, middle, near thirds
    of the annotated people); with ``person_px`` too, heads found and boxes right are scored
    per person-height band (:class:`HeadScore`): every box counted, and for each name in
    ``min_scores`` the boxes scoring at least its value (scores needed: (N, 5) boxes).

    With ``track`` (the camera's tracker: (N, 5) boxes and the image of each frame in turn to
    the ids and (M, 4) boxes of the tracks it shows), every frame up to the last evaluated one
    is detected and tracked, and the count is by tracks (:func:`span_points`)."""
    import cv2

    picked = list(range(0, min(len(files), len(heads)), stride))
    if max_frames is not None:
        picked = picked[:max_frames]
    evaluated = set(picked)
    run = list(range(picked[-1] + 1)) if track is not None and picked else picked
    sightings: dict[str, dict[int, np.ndarray]] = {}
    true = [int(inside(mask, heads[i]).sum()) for i in picked]
    edges = distance_edges(perspective, heads, mask) if perspective is not None else None
    band_true = [
        band_counts(perspective, edges, heads[i][inside(mask, heads[i])])
        for i in picked
        if perspective is not None and edges is not None
    ]
    band_system: list[list[int]] = []
    system: list[int] = []
    scores: dict[str, HeadScore] = {}
    if perspective is not None and person_px is not None:
        scores["counted"] = HeadScore(mask.shape[0], person_px)
        for name, value in (min_scores or {}).items():
            scores[name] = HeadScore(mask.shape[0], person_px, min_score=value)
    started = time.perf_counter()
    with tqdm(total=len(run), unit="frame", desc=desc, dynamic_ncols=True) as bar:
        for start in range(0, len(run), batch):
            chunk = run[start : start + batch]
            images = []
            for i in chunk:
                image = cv2.imread(str(files[i]))
                if image is None:
                    raise CrowdDataError(f"{files[i]} cannot be read as an image.")
                images.append(image)
            for i, image, found in zip(chunk, images, detect(images), strict=True):
                found = np.asarray(found, np.float64)
                found = found if found.ndim == 2 else found.reshape(-1, 4)
                if track is not None:
                    ids, tracked = track(found, image)
                    for track_id, box in zip(ids, np.asarray(tracked).reshape(-1, 4), strict=True):
                        sightings.setdefault(str(track_id), {})[i] = box
                if i not in evaluated:
                    continue
                boxes = found[:, :4]
                points = head_points(boxes, head_fraction)
                counted = inside(mask, points)
                for score in scores.values():
                    assert perspective is not None
                    score.add(
                        heads[i],
                        person_heights(perspective, heads[i], score.person_px),
                        boxes,
                        person_heights(perspective, points, score.person_px),
                        inside(mask, heads[i]),
                        counted,
                        head_fraction,
                        found[:, 4] if found.shape[1] > 4 else None,
                    )
                points = points[counted]
                system.append(len(points))
                if perspective is not None and edges is not None:
                    band_system.append(band_counts(perspective, edges, points))
            bar.update(len(chunk))
    box_counts: list[int] = []
    if track is not None:
        box_counts = system
        spans = span_points(sightings, picked, head_fraction)
        system, band_system = [], []
        for i in picked:
            points = spans[i][inside(mask, spans[i])]
            system.append(len(points))
            if perspective is not None and edges is not None:
                band_system.append(band_counts(perspective, edges, points))
    seconds = time.perf_counter() - started
    return CrowdResult(
        [i + 1 for i in picked],
        true,
        system,
        seconds,
        band_true=band_true,
        band_system=band_system,
        band_edges=edges or (),
        heads=scores,
        counted_by="tracks" if track is not None else "boxes",
        box_counts=box_counts,
        frames_processed=len(run),
    )


def span_points(
    sightings: dict[str, dict[int, np.ndarray]], frames: Sequence[int], head_fraction: float
) -> dict[int, np.ndarray]:
    """Per frame of ``frames``, the (N, 2) head points of the tracks whose first and last
    sightings span it: where the track was seen then, else interpolated between the sightings
    around it (``sightings``: per track id, its box (x1, y1, x2, y2) per frame seen)."""
    wanted = np.asarray(sorted(frames))
    points: dict[int, list[np.ndarray]] = {int(f): [] for f in wanted}
    for seen in sightings.values():
        times = np.array(sorted(seen))
        inside_span = wanted[(wanted >= times[0]) & (wanted <= times[-1])]
        if not len(inside_span):
            continue
        xyxy = np.array([seen[t] for t in times], np.float64)
        boxes = np.column_stack([np.interp(inside_span, times, xyxy[:, j]) for j in range(4)])
        for f, point in zip(inside_span, head_points(boxes, head_fraction), strict=True):
            points[int(f)].append(point)
    return {f: np.array(p).reshape(-1, 2) for f, p in points.items()}
