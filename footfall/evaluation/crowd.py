"""Crowd count: people per frame inside a region of interest, against head annotations (Mall).

The Mall dataset annotates every head as a point; its ROI (``perspective_roi.mat``) is a pixel
mask. The true count of a frame is the number of annotated heads inside the mask (this equals
the dataset's own ``count`` on 1999 of its 2000 frames). The system's count is the number of
detected people whose head point (box top-centre, ``head_fraction`` of the box height down)
falls inside the mask. MAE and MAPE are over the evaluated frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from footfall.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
DISTANCE_BANDS = ("far", "middle", "near")


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
        return len(self.frames) / self.seconds if self.seconds > 0 else 0.0

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
        return {
            "distance": self.distance(),
            "frames_evaluated": len(self.frames),
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


def head_points(xyxy: np.ndarray, head_fraction: float) -> np.ndarray:
    """(N, 2) head points of (N, 4) person boxes: top-centre, ``head_fraction`` of h down."""
    return np.column_stack(
        [(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 1] + head_fraction * (xyxy[:, 3] - xyxy[:, 1])]
    )


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
) -> CrowdResult:
    """Detect people on every ``stride``-th frame; ``detect`` maps images to (N, 4) boxes.

    With a ``perspective`` map the count is also split by distance (far, middle, near thirds
    of the annotated people)."""
    import cv2

    picked = list(range(0, min(len(files), len(heads)), stride))
    if max_frames is not None:
        picked = picked[:max_frames]
    true = [int(inside(mask, heads[i]).sum()) for i in picked]
    edges = distance_edges(perspective, heads, mask) if perspective is not None else None
    band_true = [
        band_counts(perspective, edges, heads[i][inside(mask, heads[i])])
        for i in picked
        if perspective is not None and edges is not None
    ]
    band_system: list[list[int]] = []
    system: list[int] = []
    started = time.perf_counter()
    with tqdm(total=len(picked), unit="frame", desc=desc, dynamic_ncols=True) as bar:
        for start in range(0, len(picked), batch):
            chunk = picked[start : start + batch]
            images = []
            for i in chunk:
                image = cv2.imread(str(files[i]))
                if image is None:
                    raise CrowdDataError(f"{files[i]} cannot be read as an image.")
                images.append(image)
            for boxes in detect(images):
                points = head_points(boxes, head_fraction)
                points = points[inside(mask, points)]
                system.append(len(points))
                if perspective is not None and edges is not None:
                    band_system.append(band_counts(perspective, edges, points))
            bar.update(len(chunk))
    seconds = time.perf_counter() - started
    return CrowdResult(
        [i + 1 for i in picked],
        true,
        system,
        seconds,
        band_true=band_true,
        band_system=band_system,
        band_edges=edges or (),
    )
