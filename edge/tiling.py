"""Per-camera detection: input size, confidence, a region of interest and tiled inference.

A camera whose people are small is detected on overlapping tiles as well as on the whole frame
(SAHI-style): each tile is letterboxed to the model's input like a frame, so a person covering a
quarter of the frame's height covers half of a tile's. The tiles of every camera of a step and
the whole frames of the other cameras go through the detector together, one call per input size.
Boxes found on a tile are moved back to frame pixels; a box that touches a tile's inner edge is
dropped (the person is cut there and seen whole in the neighbouring tile, which overlaps it, or
in the whole frame); what is left is merged by non-maximum suppression. A camera may ask for
several grids at once (e.g. 2x2 and 3x3: a person cut by one grid's tile edge is whole in a tile
of the other); all their tiles go into the same detector call and one merge. Optionally a box
drawn around a group (holding two or more better boxes) is dropped after the merge.

``plan_camera`` turns a camera's settings (``edge.config.CameraDetectionConfig``) into a
:class:`DetectionPlan`; ``auto`` values come from the camera's resolution and homography: the
height in pixels of a 1.7 m person standing at the far edge of the floor the camera sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge.detection import Detections, Detector

if TYPE_CHECKING:
    from edge.config import CameraDetectionConfig, DetectorConfig
    from footfall.site import Camera

PERSON_HEIGHT_M = 1.7
INPUT_SIZES = (640, 768, 960, 1280)
"""Input sizes ``image_size: auto`` chooses from (multiples of 32, smallest first)."""
EDGE_MARGIN_PX = 2.0
"""A tile box this close to a tile's inner edge is cut by it and dropped."""


@dataclass(frozen=True)
class DetectionPlan:
    """How one camera's frames are detected.

    ``image_size``: model input, pixels; ``confidence``: lowest score kept; ``tiles``: (columns,
    rows) of the tile grid, (1, 1) for the whole frame only; ``more_tiles``: further grids whose
    tiles are detected and merged with the first's; ``overlap``: fraction of a tile
    shared with its neighbour; ``roi``: polygons in frame pixels (a box is kept when its bottom
    centre is inside one; empty: the whole frame); ``far_person_px``: the apparent height of a
    1.7 m person at the far edge of the camera's floor area (None: no homography);
    ``group_share``: drop a merged box holding two better ones this much inside it (None: keep).
    """

    image_size: int
    confidence: float
    tiles: tuple[int, int] = (1, 1)
    overlap: float = 0.25
    full_frame: bool = True
    roi: tuple[tuple[tuple[float, float], ...], ...] = ()
    far_person_px: float | None = None
    tile_area: tuple[int, int, int, int] | None = None
    merge_iou: float = 0.55
    merge_containment: float | None = None
    more_tiles: tuple[tuple[int, int], ...] = ()
    group_share: float | None = None

    @property
    def grids(self) -> tuple[tuple[int, int], ...]:
        """Every tile grid of the plan, the first first; empty for the whole frame only."""
        return tuple(dict.fromkeys(g for g in (self.tiles, *self.more_tiles) if g != (1, 1)))

    @property
    def tiled(self) -> bool:
        return bool(self.grids)

    def windows(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """The tile windows of a ``width`` x ``height`` frame (inside ``tile_area``, if set),
        grid after grid."""
        x1, y1, x2, y2 = self.tile_area or (0, 0, width, height)
        x2, y2 = min(x2, width), min(y2, height)
        return [
            (a + x1, b + y1, c + x1, d + y1)
            for grid in self.grids or ((1, 1),)
            for a, b, c, d in tile_windows(x2 - x1, y2 - y1, grid, self.overlap)
        ]

    def describe(self) -> str:
        parts = [f"{self.image_size} px", f"conf {self.confidence:g}"]
        if self.tiled:
            grids = " + ".join(f"{c}x{r}" for c, r in self.grids)
            parts.append(f"tiles {grids} ({self.overlap:g} overlap)")
            if self.tile_area is not None:
                parts.append(f"tiled area {list(self.tile_area)}")
            parts.append(f"merge IoU {self.merge_iou:g}")
            if self.merge_containment is not None:
                parts.append(f"containment {self.merge_containment:g}")
        if self.group_share is not None:
            parts.append(f"group boxes dropped ({self.group_share:g} inside)")
        if self.roi:
            parts.append(f"ROI {len(self.roi)} polygon(s)")
        if self.far_person_px is not None:
            parts.append(f"far person {self.far_person_px:.0f} px")
        return ", ".join(parts)


def tile_windows(
    width: int, height: int, tiles: tuple[int, int], overlap: float
) -> list[tuple[int, int, int, int]]:
    """(x1, y1, x2, y2) windows of a ``tiles`` = (columns, rows) grid covering the frame, each
    neighbour pair sharing ``overlap`` of a tile."""
    cols, rows = tiles

    def spans(length: int, n: int) -> list[tuple[int, int]]:
        if n <= 1:
            return [(0, length)]
        size = length / (n - (n - 1) * overlap)
        step = size * (1 - overlap)
        return [(round(i * step), min(length, round(i * step + size))) for i in range(n)]

    return [(x1, y1, x2, y2) for y1, y2 in spans(height, rows) for x1, x2 in spans(width, cols)]


def inside_polygons(
    points: np.ndarray, polygons: Sequence[Sequence[Sequence[float]]]
) -> np.ndarray:
    """Which (N, 2) pixel points lie inside (or on) any of ``polygons``."""
    keep = np.zeros(len(points), bool)
    for polygon in polygons:
        contour = np.asarray(polygon, np.float32).reshape(-1, 1, 2)
        keep |= np.array(
            [cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in points],
            bool,
        ).reshape(len(points))
    return keep


def _window_in_roi(
    window: tuple[int, int, int, int], roi: Sequence[Sequence[Sequence[float]]]
) -> bool:
    """Whether a tile window meets any ROI polygon (a tile outside every polygon is skipped)."""
    x1, y1, x2, y2 = window
    for polygon in roi:
        pts = np.asarray(polygon, np.float64)
        if (
            pts[:, 0].max() >= x1
            and pts[:, 0].min() <= x2
            and pts[:, 1].max() >= y1
            and pts[:, 1].min() <= y2
        ):
            return True
    return False


def merge(parts: Sequence[Detections], iou: float, containment: float | None = None) -> Detections:
    """One set of boxes from overlapping passes: non-maximum suppression over all of them; with
    ``containment``, a box whose intersection with a higher-scoring kept box covers that much
    of its own area is dropped as well."""
    boxes = [p for p in parts if len(p)]
    if not boxes:
        return Detections()
    xyxy = np.concatenate([p.xyxy for p in boxes])
    conf = np.concatenate([p.confidence for p in boxes])
    if len(boxes) == 1:
        return Detections(xyxy=xyxy, confidence=conf)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    chosen = cv2.dnn.NMSBoxes(np.column_stack([xyxy[:, :2], wh]).tolist(), conf.tolist(), 0.0, iou)
    index = np.asarray(chosen, int).reshape(-1)
    index = index[np.argsort(-conf[index], kind="stable")]
    if containment is not None:
        index = index[_not_contained(xyxy[index], containment)]
    return Detections(xyxy=xyxy[index], confidence=conf[index])


def inside_shares(xyxy: np.ndarray) -> np.ndarray:
    """(N, N) matrix of (N, 4) boxes: ``[i, j]`` is the share of box i's area inside box j."""
    x1 = np.maximum(xyxy[:, None, 0], xyxy[None, :, 0])
    y1 = np.maximum(xyxy[:, None, 1], xyxy[None, :, 1])
    x2 = np.minimum(xyxy[:, None, 2], xyxy[None, :, 2])
    y2 = np.minimum(xyxy[:, None, 3], xyxy[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area = ((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])).clip(1e-9)
    shares: np.ndarray = inter / area[:, None]
    return shares


def drop_group_boxes(dets: Detections, share: float) -> Detections:
    """Without the boxes drawn around a group: a box holding two or more better (higher-scoring)
    kept boxes, each lying at least ``share`` of its own area inside it, is dropped. Boxes come
    back best first."""
    if len(dets) < 3:
        return dets
    order = np.argsort(-dets.confidence, kind="stable")
    xyxy, conf = dets.xyxy[order], dets.confidence[order]
    inside_of = inside_shares(xyxy)  # [i, j]: share of box i inside box j
    keep = np.ones(len(xyxy), bool)
    for j in range(1, len(xyxy)):
        keep[j] = (inside_of[:j, j][keep[:j]] >= share).sum() < 2
    return Detections(xyxy=xyxy[keep], confidence=conf[keep])


def _not_contained(xyxy: np.ndarray, containment: float) -> np.ndarray:
    """Which of (N, 4) boxes, best first, do not lie ``containment`` inside a better kept one."""
    inside_of = inside_shares(xyxy)
    keep = np.ones(len(xyxy), bool)
    for i in range(1, len(xyxy)):
        keep[i] = not (inside_of[i, :i][keep[:i]] >= containment).any()
    return keep


def _from_tile(
    dets: Detections, window: tuple[int, int, int, int], size: tuple[int, int]
) -> Detections:
    """Tile boxes in frame pixels, without those cut by an inner tile edge."""
    if not len(dets):
        return dets
    x1, y1, x2, y2 = window
    width, height = size
    b = dets.xyxy
    cut = np.zeros(len(dets), bool)
    if x1 > 0:
        cut |= b[:, 0] <= EDGE_MARGIN_PX
    if y1 > 0:
        cut |= b[:, 1] <= EDGE_MARGIN_PX
    if x2 < width:
        cut |= b[:, 2] >= (x2 - x1) - EDGE_MARGIN_PX
    if y2 < height:
        cut |= b[:, 3] >= (y2 - y1) - EDGE_MARGIN_PX
    kept = dets[~cut]
    moved = kept.xyxy + np.array([x1, y1, x1, y1], np.float32)
    return Detections(xyxy=moved.astype(np.float32), confidence=kept.confidence)


@dataclass
class PerCameraDetector:
    """Detects each camera's frames by its own :class:`DetectionPlan`.

    ``detector_for(image_size)`` builds (once) the detector of an input size; its confidence must
    be at most the lowest any plan asks for (each camera's own is applied here). Cameras without
    a plan use ``default``. ``detect_cameras`` is what the edge engine calls; ``detect`` (the
    ``Detector`` protocol) treats every image as a camera with the default plan.
    """

    default: DetectionPlan
    plans: dict[str, DetectionPlan]
    detector_for: Callable[[int], Detector]
    _detectors: dict[int, Detector] = field(default_factory=dict)

    def plan(self, camera_id: str) -> DetectionPlan:
        return self.plans.get(camera_id, self.default)

    def _detector(self, image_size: int) -> Detector:
        found = self._detectors.get(image_size)
        if found is None:
            found = self._detectors[image_size] = self.detector_for(image_size)
        return found

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return self.detect_cameras([""] * len(images), images)

    def detect_cameras(
        self, camera_ids: Sequence[str], images: Sequence[np.ndarray]
    ) -> list[Detections]:
        """People in one frame per entry (camera ids beside their frames), every tile and whole
        frame of one input size in one detector call."""
        crops: dict[int, list[tuple[int, tuple[int, int, int, int] | None, np.ndarray]]] = {}
        plans = [self.plan(c) for c in camera_ids]
        for i, (plan, image) in enumerate(zip(plans, images, strict=True)):
            height, width = image.shape[:2]
            jobs: list[tuple[tuple[int, int, int, int] | None, np.ndarray]] = []
            if plan.full_frame or not plan.tiled:
                jobs.append((None, image))
            if plan.tiled:
                for window in plan.windows(width, height):
                    if plan.roi and not _window_in_roi(window, plan.roi):
                        continue
                    jobs.append((window, image[window[1] : window[3], window[0] : window[2]]))
            crops.setdefault(plan.image_size, []).extend((i, w, c) for w, c in jobs)
        parts: list[list[Detections]] = [[] for _ in images]
        for image_size, jobs_of_size in crops.items():
            found = self._detector(image_size).detect([crop for _, _, crop in jobs_of_size])
            for (i, tile, _), dets in zip(jobs_of_size, found, strict=True):
                if tile is not None:
                    h, w = images[i].shape[:2]
                    dets = _from_tile(dets, tile, (w, h))
                parts[i].append(dets)
        out = []
        for plan, found_parts in zip(plans, parts, strict=True):
            dets = (
                merge(found_parts, plan.merge_iou, plan.merge_containment)
                if len(found_parts) > 1
                else found_parts[0]
            )
            if plan.group_share is not None:
                dets = drop_group_boxes(dets, plan.group_share)
            dets = dets[dets.confidence >= plan.confidence]
            if plan.roi and len(dets):
                dets = dets[inside_polygons(dets.bottom_centres(), plan.roi)]
            out.append(dets)
        return out


def far_person_height_px(
    homography: np.ndarray,
    image_points: np.ndarray,
    person_height_m: float = PERSON_HEIGHT_M,
) -> float:
    """Apparent height in pixels of a person standing at the far edge of a camera's floor area.

    ``homography``: 3x3 image → floor (metres); ``image_points``: (N, 2) pixels spanning the
    floor area the camera covers (its calibration points, or a region of interest). The far edge
    is the highest row of those points; there the image's horizontal scale (pixels per floor
    metre, measured across the row) stands for the vertical one of an upright person.
    """
    pts = np.asarray(image_points, np.float64).reshape(-1, 2)
    row = pts[:, 1].min()
    left, right = pts[:, 0].min(), pts[:, 0].max()
    if right - left < 4:
        left, right = left - 16, right + 16
    xs = np.linspace(left, right, 9)
    image = np.column_stack([xs, np.full_like(xs, row)])
    h = np.asarray(homography, np.float64)
    floor = np.column_stack([image, np.ones(len(image))]) @ h.T
    floor = floor[:, :2] / floor[:, 2:3]
    metres = float(np.linalg.norm(floor[-1] - floor[0]))
    if not math.isfinite(metres) or metres <= 0:
        return float("nan")
    return float(person_height_m * (right - left) / metres)


def auto_image_size(
    resolution: tuple[int, int], far_person_px: float | None, min_person_px: float, fallback: int
) -> int:
    """The smallest input size at which the far person is at least ``min_person_px`` tall in
    the model's input (letterboxed: scaled by size / the frame's long side); the largest of
    :data:`INPUT_SIZES` when none is; ``fallback`` without a homography."""
    if far_person_px is None or not math.isfinite(far_person_px):
        return fallback
    long_side = max(resolution)
    for size in INPUT_SIZES:
        if far_person_px * size / long_side >= min_person_px:
            return size
    return INPUT_SIZES[-1]


def auto_tiles(
    resolution: tuple[int, int],
    far_person_px: float | None,
    image_size: int,
    min_person_px: float,
    overlap: float = 0.25,
) -> tuple[int, int]:
    """The smallest tile grid (columns, rows) that brings the far person to ``min_person_px``
    in the model's input at ``image_size``; (1, 1) when the whole frame already does."""
    if far_person_px is None or not math.isfinite(far_person_px):
        return (1, 1)
    width, height = resolution
    for n in (1, 2, 3, 4):
        cols, rows = n, max(1, round(n * height / width)) if n > 1 else 1
        long_side = max(
            width / (cols - overlap * (cols - 1)), height / (rows - overlap * (rows - 1))
        )
        if far_person_px * image_size / long_side >= min_person_px:
            return (cols, rows)
    return (4, max(1, round(4 * height / width)))


def plan_camera(
    settings: CameraDetectionConfig | None,
    detector: DetectorConfig,
    camera: Camera | None = None,
) -> DetectionPlan:
    """A camera's plan: its own settings over the detector's; ``auto`` values from ``camera``
    (its resolution and homography; without a site camera they fall back to the detector's
    input size and to no tiles)."""
    from edge.config import CameraDetectionConfig

    own = settings or CameraDetectionConfig()
    far = None
    if camera is not None:
        points = np.asarray([p.image for p in camera.calibration.points], np.float64)
        if own.roi:
            points = np.concatenate([np.asarray(p, np.float64) for p in own.roi])
        far = far_person_height_px(camera.homography(), points)
        far = far if math.isfinite(far) else None
    resolution = camera.resolution if camera is not None else None
    size = own.image_size
    if size == "auto":
        size = (
            auto_image_size(resolution, far, own.min_person_px, detector.image_size)
            if resolution is not None
            else detector.image_size
        )
    image_size = int(size) if size is not None else detector.image_size
    grids: list[tuple[int, int]] = []
    if own.tiles == "auto":
        if resolution is not None:
            grids = [auto_tiles(resolution, far, image_size, own.min_person_px, own.tile_overlap)]
    elif own.tiles != "off":
        listed = [own.tiles] if isinstance(own.tiles, tuple) else own.tiles
        grids = [(int(c), int(r)) for c, r in listed]
    grids = list(dict.fromkeys(g for g in grids if g != (1, 1))) or [(1, 1)]
    return DetectionPlan(
        image_size=image_size,
        confidence=own.confidence if own.confidence is not None else detector.confidence,
        tiles=grids[0],
        more_tiles=tuple(grids[1:]),
        overlap=own.tile_overlap,
        full_frame=own.full_frame,
        roi=tuple(tuple((float(x), float(y)) for x, y in polygon) for polygon in own.roi),
        far_person_px=far,
        merge_iou=own.merge_iou,
        merge_containment=own.merge_containment,
        tile_area=own.tile_area,
        group_share=own.drop_group_boxes,
    )
