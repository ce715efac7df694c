"""How the Mall camera's tiles are merged and which boxes are counted (issue 18).

Runs the detector once per pass (the whole frame and every tile of each grid, optionally on
mirrored frames too) on Mall frames that no report counts (1, 11, 21, ... by default: the
reports count every 4th frame from 0), then replays the merging of ``edge.tiling.merge`` for
every merge IoU, containment and confidence, and prints the count's MAPE, MAE and bias, best
first. The chosen settings of configs/edge/detection-cameras.yaml come from this:

    .venv/bin/python bench/edge/mall_tiles_sweep.py                   # 2x2 and 3x3, ~4 min
    .venv/bin/python bench/edge/mall_tiles_sweep.py --mirror          # with mirrored frames
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import cv2
import numpy as np

from edge.config import EdgeConfig
from edge.detection import Detections
from edge.detection_backends import build_detector
from edge.tiling import _from_tile, merge, tile_windows
from footfall.evaluation.crowd import frame_files, head_points, inside, load_mall

MALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mall_dataset"
Pass = list[Detections]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=1, help="First frame (0-based).")
    parser.add_argument("--stride", type=int, default=10)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=640)
    parser.add_argument("--precision", default="int8", choices=["int8", "fp32"])
    parser.add_argument("--grids", default="2x2,3x3", help="Tile grids, e.g. 2x2,3x3.")
    parser.add_argument("--mirror", action="store_true", help="Also detect on mirrored frames.")
    args = parser.parse_args()
    grids = [tuple(int(n) for n in g.split("x")) for g in args.grids.split(",")]
    heads, mask = load_mall(MALL / "mall_gt.mat", MALL / "perspective_roi.mat")
    files = frame_files(MALL / "frames")
    settings = EdgeConfig().detector.model_copy(
        update={"image_size": args.image_size, "confidence": 0.05, "precision": args.precision}
    )
    # The same INT8 model as the Mall report's (calibrated on the Mall frames).
    detector = build_detector(settings, [str(MALL / "frames")])
    picked = list(range(args.first, len(files), args.stride))[: args.frames]
    true = np.array([inside(mask, heads[i]).sum() for i in picked], float)
    # passes[grid][frame]: the whole frame's boxes, then every tile's (frame pixels).
    passes: dict[tuple[int, ...], list[Pass]] = {g: [] for g in [(1, 1), *grids]}
    for i in picked:
        image = cv2.imread(str(files[i]))
        height, width = image.shape[:2]
        views = [(image, False)] + ([(image[:, ::-1].copy(), True)] if args.mirror else [])
        for grid in passes:
            found: Pass = []
            for view, mirrored in views:
                windows = tile_windows(width, height, (grid[0], grid[1]), 0.25)
                crops = [view[y1:y2, x1:x2] for x1, y1, x2, y2 in windows]
                for window, dets in zip(windows, detector.detect(crops), strict=True):
                    dets = _from_tile(dets, window, (width, height))
                    if mirrored and len(dets):
                        xyxy = dets.xyxy.copy()
                        xyxy[:, [0, 2]] = width - dets.xyxy[:, [2, 0]]
                        dets = Detections(xyxy=xyxy, confidence=dets.confidence)
                    found.append(dets)
            passes[grid].append(found)
    rows = []
    for grid in grids:
        for iou, containment in itertools.product((0.35, 0.45, 0.55), (None, 0.7, 0.8, 0.9)):
            merged = [
                merge(whole + tiles, iou, containment)
                for whole, tiles in zip(passes[(1, 1)], passes[grid], strict=True)
            ]
            for confidence in (0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.13):
                system = np.array(
                    [
                        inside(mask, head_points(d.xyxy[d.confidence >= confidence], 0.1)).sum()
                        for d in merged
                    ],
                    float,
                )
                err = system - true
                mape = float(np.mean(np.abs(err) / true))
                rows.append((mape, grid, iou, containment, confidence, np.abs(err).mean(), err))
    rows.sort(key=lambda r: r[0])
    print(
        f"{len(picked)} Mall frames from {args.first} every {args.stride}, "
        f"{args.image_size} px {args.precision}{' + mirrored' if args.mirror else ''}"
    )
    print("MAPE    grid  IoU   contain  conf  MAE   bias")
    for mape, grid, iou, containment, confidence, mae, err in rows[:15]:
        print(
            f"{100 * mape:5.1f} %  {grid[0]}x{grid[1]}   {iou:.2f}  {containment or '-'!s:7}"
            f"  {confidence:.2f}  {mae:.2f}  {err.mean():+.2f}"
        )
    for grid in grids:
        best = next(r for r in rows if r[1] == grid)
        print(f"best {grid[0]}x{grid[1]}: {100 * best[0]:.1f} %")
    before, chosen = ((2, 2), 0.55, None, 0.1), ((2, 2), 0.45, 0.8, 0.06)
    for grid, iou, containment, confidence in (before, chosen):
        for r in rows:
            if r[1:5] == (grid, iou, containment, confidence):
                print(
                    f"{grid[0]}x{grid[1]} IoU {iou} containment {containment} from "
                    f"{confidence}: {100 * r[0]:.1f} %"
                )


if __name__ == "__main__":
    main()
