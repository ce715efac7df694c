"""How the Mall camera's tiles are merged and which boxes are counted (issue 18).

Runs the detector once per pass (the whole frame and every tile of each grid, optionally on
mirrored frames too) on Mall frames that no report counts, then replays the merging of
``edge.tiling.merge`` for every merge IoU, containment and confidence, and prints the count's
MAPE, MAE and bias, best first. The detector's boxes (and its seconds) are cached in
.run/mall_tiles_sweep/, so a second run, or bench/edge/mall_ideas_sweep.py, only replays. The
reports count every 4th frame from 0; the sweep takes every 10th from each of ``--firsts``
(1, 11, 21, ... and 5, 15, 25, ...: two disjoint slices, neither in a report), ranks by the mean
MAPE of the slices and prints each slice's, so a setting tuned to one slice shows. The chosen
settings of configs/edge/detection-cameras.yaml come from this:

    .venv/bin/python bench/edge/mall_tiles_sweep.py                   # 2x2 and 3x3, ~4 min
    .venv/bin/python bench/edge/mall_tiles_sweep.py --mirror          # with mirrored frames

``--rules`` also replays two grids together (``tiles: [[2, 2], [3, 3]]`` in the edge), dropping
a box that holds two better ones (a box around a group: the edge's ``drop_group_boxes``, for
each share of ``--group-shares``), and what the edge does not do, to see what it would be worth:
a lower confidence for small boxes (``--small-px``: boxes shorter than that, frame pixels), a
region of interest that leaves out the shop windows (mannequins) and the glass on the right
(reflections). For the
best rows it prints the share of each distance third counted (system / true people, from the
dataset's perspective map: far, middle, near) and the precision of the counted boxes (heads
matched one to one, as ``footfall eval``), and the detector's frames/s for each grid (the
detector alone: the whole frame plus that grid's tiles, on this machine, under its load).

    .venv/bin/python bench/edge/mall_tiles_sweep.py --rules   # reports/eval/mall_tiles_sweep
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from edge.config import EdgeConfig
from edge.detection import Detections, Detector
from edge.detection_backends import build_detector
from edge.tiling import _from_tile, drop_group_boxes, inside_polygons, merge, tile_windows
from footfall.evaluation.crowd import (
    band_counts,
    distance_edges,
    frame_files,
    head_points,
    inside,
    load_mall,
    load_perspective,
    match_heads,
    person_heights,
)

MALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mall_dataset"
PERSON_PX = 150.0  # a person's height where pMapN is 1 (configs/eval/detection_mall.yaml)
# The walkway, drawn on the frame: it leaves out the shop window on the left (mannequins, taken
# for people at every confidence), the pillar beside it and the glass on the right (reflections),
# and the mannequin in the right-hand shop window. A box counts when its feet are inside.
WALKWAY = [
    [
        (115, 0),
        (470, 0),
        (500, 40),
        (527, 128),
        (565, 150),
        (635, 360),
        (640, 380),
        (640, 480),
        (0, 480),
        (0, 300),
        (60, 250),
        (80, 180),
        (115, 175),
    ]
]
Pass = list[Detections]
Keep = Callable[[Detections], np.ndarray]
_ON_WALKWAY: dict[int, np.ndarray] = {}  # id(boxes) -> feet on the walkway, for one merging


def on_walkway(dets: Detections) -> np.ndarray:
    found = _ON_WALKWAY.get(id(dets))
    if found is None:
        found = _ON_WALKWAY[id(dets)] = (
            inside_polygons(dets.bottom_centres(), WALKWAY) if len(dets) else np.zeros(0, bool)
        )
    return found


CACHE = Path(__file__).resolve().parents[2] / ".run" / "mall_tiles_sweep"


def _cache_file(tag: str, grid: tuple[int, int], mirrored: bool, picked: list[int]) -> Path:
    flip = "-mirrored" if mirrored else ""
    step = picked[1] - picked[0] if len(picked) > 1 else 1
    return CACHE / f"{tag}-{grid[0]}x{grid[1]}{flip}-{picked[0]}-{step}-{len(picked)}.npz"


def detect_passes(
    detector: Callable[[], Detector],
    files: list[Path],
    picked: list[int],
    grids,
    overlap: float,
    mirrored: bool,
    tag: str,
) -> tuple[dict[tuple[int, int], list[Pass]], dict[tuple[int, int], float]]:
    """passes[grid][frame]: the boxes of every tile of ``grid`` (frame pixels; (1, 1): the whole
    frame; ``mirrored``: detected on the mirrored frame, mapped back), and the seconds each
    grid's detection took. Cached in .run/mall_tiles_sweep/ by ``tag`` (model, input size,
    precision, tile overlap), grid and slice, the seconds with them, so a re-run only replays
    (delete the folder after changing the detector or the INT8 calibration)."""
    passes: dict[tuple[int, int], list[Pass]] = {}
    seconds: dict[tuple[int, int], float] = {}
    for grid in [(1, 1), *grids]:
        path = _cache_file(tag, grid, mirrored, picked)
        if path.exists():
            data = np.load(path)
            frame, tile = data["frame"], data["tile"]
            passes[grid] = [
                [
                    Detections(
                        xyxy=data["xyxy"][(frame == k) & (tile == t)],
                        confidence=data["conf"][(frame == k) & (tile == t)],
                    )
                    for t in range(int(data["tiles"]))
                ]
                for k in range(len(picked))
            ]
            seconds[grid] = float(data["seconds"])
            continue
        found_all: list[Pass] = []
        spent = 0.0
        for i in picked:
            image = cv2.imread(str(files[i]))
            height, width = image.shape[:2]
            view = image[:, ::-1].copy() if mirrored else image
            started = time.perf_counter()
            found: Pass = []
            windows = tile_windows(width, height, grid, overlap)
            crops = [view[y1:y2, x1:x2] for x1, y1, x2, y2 in windows]
            for window, dets in zip(windows, detector().detect(crops), strict=True):
                if grid != (1, 1):
                    dets = _from_tile(dets, window, (width, height))
                found.append(dets)
            spent += time.perf_counter() - started
            if mirrored:
                found = [_unmirror(d, width) for d in found]
            found_all.append(found)
        passes[grid], seconds[grid] = found_all, spent
        CACHE.mkdir(parents=True, exist_ok=True)
        rows = [(k, t, d) for k, fr in enumerate(found_all) for t, d in enumerate(fr)]
        np.savez(
            path,
            frame=np.concatenate([np.full(len(d), k) for k, _, d in rows]),
            tile=np.concatenate([np.full(len(d), t) for _, t, d in rows]),
            xyxy=np.concatenate([d.xyxy.reshape(-1, 4) for _, _, d in rows]).astype(np.float32),
            conf=np.concatenate([d.confidence for _, _, d in rows]).astype(np.float32),
            tiles=len(found_all[0]),
            seconds=spent,
        )
    return passes, seconds


def _unmirror(dets: Detections, width: int) -> Detections:
    if not len(dets):
        return dets
    xyxy = dets.xyxy.copy()
    xyxy[:, [0, 2]] = width - dets.xyxy[:, [2, 0]]
    return Detections(xyxy=xyxy, confidence=dets.confidence)


def rule(confidence: float, small: float | None, small_px: float, roi: bool) -> Keep:
    """Which merged boxes are counted: from ``confidence`` (from ``small`` when shorter than
    ``small_px``), with ``roi`` only those whose feet are on the walkway."""

    def keep(dets: Detections) -> np.ndarray:
        ok = dets.confidence >= confidence
        if small is not None:
            short = (dets.xyxy[:, 3] - dets.xyxy[:, 1]) < small_px
            ok = np.where(short, dets.confidence >= small, ok)
        if roi and len(dets):
            ok &= on_walkway(dets)
        return np.asarray(ok, bool)

    return keep


class Slice:
    """One slice of Mall frames: its true counts and, per merging, the merged boxes."""

    def __init__(self, picked: list[int], heads, mask, perspective, edges) -> None:
        self.picked, self.heads, self.mask = picked, heads, mask
        self.perspective, self.edges = perspective, edges
        self.true = np.array([inside(mask, heads[i]).sum() for i in picked], float)
        self.passes: dict[tuple[int, int], list[Pass]] = {}
        self.fps: dict[tuple[int, int], float] = {}

    def merged(self, grids, iou: float, containment: float | None, groups: float | None):
        out = []
        for k in range(len(self.picked)):
            parts = [d for g in [(1, 1), *grids] for d in self.passes[g][k]]
            dets = merge(parts, iou, containment)
            out.append(drop_group_boxes(dets, groups) if groups is not None else dets)
        return out

    def count(self, merged: list[Detections], keep: Keep) -> np.ndarray:
        return np.array(
            [inside(self.mask, head_points(d.xyxy[keep(d)], 0.1)).sum() for d in merged], float
        )

    def detail(self, merged: list[Detections], keep: Keep) -> tuple[np.ndarray, float]:
        """Counted / true per distance third (far, middle, near), and the counted precision."""
        true, system, right, counted = np.zeros(3), np.zeros(3), 0, 0
        for i, dets in zip(self.picked, merged, strict=True):
            xyxy = dets.xyxy[keep(dets)]
            points = head_points(xyxy, 0.1)
            ok = inside(self.mask, points)
            heads = self.heads[i]
            true += band_counts(self.perspective, self.edges, heads[inside(self.mask, heads)])
            system += band_counts(self.perspective, self.edges, points[ok])
            tall = person_heights(self.perspective, heads, PERSON_PX)
            _, matched = match_heads(heads, tall, xyxy, 0.1)
            right += int(matched[ok].sum())
            counted += int(ok.sum())
        return system / np.maximum(true, 1), right / max(counted, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--firsts", default="1,5", help="First frame (0-based) of each slice, e.g. 1,5."
    )
    parser.add_argument("--stride", type=int, default=10)
    parser.add_argument("--frames", type=int, default=200, help="Frames per slice.")
    parser.add_argument("--image-size", type=int, default=640)
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32"])
    parser.add_argument("--model", default="yolov8n", choices=["yolov8n", "yolov10n"])
    parser.add_argument("--grids", default="2x2,3x3", help="Tile grids, e.g. 2x2,3x3.")
    parser.add_argument("--overlap", type=float, default=0.25, help="Tile overlap.")
    parser.add_argument("--mirror", action="store_true", help="Also detect on mirrored frames.")
    parser.add_argument(
        "--rules",
        action="store_true",
        help="Also replay both grids together, dropping group boxes, a lower confidence for "
        "small boxes and the walkway ROI.",
    )
    parser.add_argument("--small-px", type=float, default=60.0)
    parser.add_argument(
        "--group-shares",
        default="0.6,0.7,0.8",
        help="With --rules, the drop_group_boxes shares replayed (besides keeping them).",
    )
    parser.add_argument("--ious", default="0.35,0.45,0.55", help="Merge (NMS) IoUs replayed.")
    parser.add_argument(
        "--containments",
        default="none,0.7,0.8,0.9",
        help="Merge containments replayed (none: NMS by IoU alone).",
    )
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    grids = [tuple(int(n) for n in g.split("x")) for g in args.grids.split(",")]
    heads, mask = load_mall(MALL / "mall_gt.mat", MALL / "perspective_roi.mat")
    perspective = load_perspective(MALL / "perspective_roi.mat")
    edges = distance_edges(perspective, heads, mask)
    files = frame_files(MALL / "frames")
    settings = EdgeConfig().detector.model_copy(
        update={
            "image_size": args.image_size,
            "confidence": 0.04,
            "precision": args.precision,
            "model": args.model,
        }
    )
    # The same INT8 model as the Mall report's (calibrated on the Mall frames), built only when
    # a pass is not cached yet.
    detector = functools.cache(lambda: build_detector(settings, [str(MALL / "frames")]))
    tag = f"{args.model}-{args.image_size}-{args.precision}-o{args.overlap:g}"
    slices = []
    for first in (int(f) for f in args.firsts.split(",")):
        picked = list(range(first, len(files), args.stride))[: args.frames]
        piece = Slice(picked, heads, mask, perspective, edges)
        piece.passes, seconds = detect_passes(
            detector, files, picked, grids, args.overlap, False, tag
        )
        if args.mirror:  # the mirrored frame's boxes go into the same merge
            mirrored, more = detect_passes(detector, files, picked, grids, args.overlap, True, tag)
            for grid, frames in mirrored.items():
                piece.passes[grid] = [
                    a + b for a, b in zip(piece.passes[grid], frames, strict=True)
                ]
                seconds[grid] += more[grid]
        piece.fps = {
            g: len(picked) / (seconds[(1, 1)] + (seconds[g] if g != (1, 1) else 0.0))
            for g in seconds
        }
        slices.append(piece)
    fps = {g: float(np.mean([s.fps[g] for s in slices])) for g in slices[0].fps}
    seconds_per_frame = {g: 1 / f - (1 / fps[(1, 1)] if g != (1, 1) else 0) for g, f in fps.items()}

    def combo_fps(combo) -> float:
        """The detector's frames/s for the whole frame and every grid of ``combo``."""
        return 1 / (1 / fps[(1, 1)] + sum(seconds_per_frame[g] for g in combo))

    combos = [[g] for g in grids] + ([grids] if args.rules and len(grids) > 1 else [])
    confidences = (0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.12)
    smalls: tuple[float | None, ...] = (None, 0.04, 0.05, 0.06) if args.rules else (None,)
    rois = (False, True) if args.rules else (False,)
    groups: tuple[float | None, ...] = (None,)
    if args.rules:
        groups += tuple(float(g) for g in args.group_shares.split(","))
    rows = []
    ious = [float(v) for v in args.ious.split(",")]
    containments = [None if v == "none" else float(v) for v in args.containments.split(",")]
    for combo, iou, containment, group in itertools.product(combos, ious, containments, groups):
        _ON_WALKWAY.clear()
        merged = [s.merged(combo, iou, containment, group) for s in slices]
        for confidence, small, roi in itertools.product(confidences, smalls, rois):
            if small is not None and small >= confidence:
                continue
            keep = rule(confidence, small, args.small_px, roi)
            errors = [s.count(m, keep) - s.true for s, m in zip(slices, merged, strict=True)]
            mapes = [
                float(np.mean(np.abs(e) / s.true)) for e, s in zip(errors, slices, strict=True)
            ]
            setting = (tuple(combo), iou, containment, group, confidence, small, roi)
            rows.append((float(np.mean(mapes)), mapes, setting, errors))
    rows.sort(key=lambda r: r[0])
    names = ", ".join(f"{s.picked[0]}, {s.picked[0] + args.stride}, ..." for s in slices)
    print(
        f"{len(slices)} slices of {args.frames} Mall frames every {args.stride} ({names}), "
        f"{args.model} {args.image_size} px {args.precision}, tile overlap {args.overlap:g}"
        f"{' + mirrored' if args.mirror else ''}"
    )
    print(
        "detector frames/s (whole frame + tiles): "
        + ", ".join(f"{g[0]}x{g[1]} {f:.1f}" for g, f in fps.items())
    )
    print(
        "MAPE mean (per slice)  grids    IoU   contain group conf  small  ROI  "
        "MAE   bias   far/mid/near counted   P counted  fps"
    )

    def show(row) -> None:
        mean, mapes, (combo, iou, cont, group, conf, small, roi), errors = row
        _ON_WALKWAY.clear()
        keep = rule(conf, small, args.small_px, roi)
        merged = [s.merged(combo, iou, cont, group) for s in slices]  # held: ids stay unique
        thirds, precision = zip(
            *(s.detail(m, keep) for s, m in zip(slices, merged, strict=True)), strict=True
        )
        third = np.mean(thirds, axis=0)
        grids_text = "+".join(f"{g[0]}x{g[1]}" for g in combo)
        print(
            f"{100 * mean:5.2f} % ({' / '.join(f'{100 * m:.2f}' for m in mapes)})  "
            f"{grids_text:8} {iou:.2f}  {cont or '-'!s:7} {group or '-'!s:5} {conf:.2f}  "
            f"{small or '-'!s:5}  {'yes' if roi else 'no ':3}  "
            f"{np.mean([np.abs(e).mean() for e in errors]):.2f}  "
            f"{np.mean([e.mean() for e in errors]):+.2f}  "
            f"{third[0]:.3f} / {third[1]:.3f} / {third[2]:.3f}   {np.mean(precision):.3f}"
            f"      {combo_fps(combo):.1f}"
        )

    for row in rows[: args.top]:
        show(row)
    print("best of each kind:")
    kinds: dict[str, Callable[[tuple], bool]] = {
        f"{g[0]}x{g[1]}, the edge's own settings": (
            lambda s, g=g: s[0] == (g,) and s[5] is None and not s[6]
        )
        for g in grids
    }
    if args.rules:
        kinds["with the walkway ROI"] = lambda s: s[6]
        kinds["with a lower confidence for small boxes"] = lambda s: s[5] is not None
        kinds["with group boxes dropped"] = lambda s: s[3] is not None
        kinds["both grids together"] = lambda s: len(s[0]) > 1
        kinds["both grids together, the edge's own settings"] = lambda s: (
            len(s[0]) > 1 and s[5] is None and not s[6]
        )
    for name, wanted in kinds.items():
        best = next((r for r in rows if wanted(r[2])), None)
        if best is not None:
            print(f"  {name}:")
            show(best)
    print(
        "the Mall settings chosen before (configs/edge/detection-cameras.yaml): first, then "
        "IoU 0.45 + containment 0.8, then IoU 0.35 + containment 0.9:"
    )
    for setting in (
        (((2, 2),), 0.55, None, None, 0.1, None, False),
        (((2, 2),), 0.45, 0.8, None, 0.06, None, False),
        (((2, 2),), 0.35, 0.9, None, 0.06, None, False),
    ):
        found = next((r for r in rows if r[2] == setting), None)
        if found is not None:
            show(found)


if __name__ == "__main__":
    main()
