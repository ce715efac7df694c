"""Counting the Mall camera's people by tracks, as the cloud counts occupancy (issue 18).

The product counts occupancy from tracks: a person is in a zone from their track's first to its
last sighting, so a person the detector misses for a frame is still counted, and a box no track
takes up is not. On the Mall webcam (~2 frames/s) BoT-SORT, whose first cue is box overlap,
loses the small people (they move further than their box between frames). This replays the
camera's boxes (the Mall camera's chosen detection setting of configs/edge/detection-cameras.yaml,
from every frame) through the edge's trackers, counts at each frame the tracks whose first and
last sightings span it (``footfall.evaluation.crowd.span_points``, as ``footfall eval`` with
``count: tracks``), and prints the MAPE on the sweep's two held-out slices (every 10th frame from
1 and from 5, 200 each; the ranking) and on the report's frames (every 4th from 0, 500), beside
the per-frame box count: BoT-SORT as the edge runs it (box overlap only) and the head linker
(``edge/linker.py``) for every ``--lows`` (the camera's confidence and the linker's
track_low_thresh), ``--gates`` (link_gate), ``--buffers`` (track_buffer_s) and ``--confirms``
(new_track_thresh).

The detector's boxes for all 2000 frames are cached in .run/mall_tiles_sweep/ (the first run
detects them: ~6 min on 2 cores):

    .venv/bin/python bench/edge/mall_count_tracks.py > reports/eval/mall_tiles_sweep/tracks.txt
"""

from __future__ import annotations

import argparse
import functools
import itertools
from pathlib import Path

import numpy as np
from mall_tiles_sweep import MALL, detect_passes

from edge.config import EdgeConfig, TrackerConfig, load_edge_config
from edge.detection import Detections
from edge.detection_backends import build_detector
from edge.tiling import drop_group_boxes, merge
from edge.tracking import build_tracker
from footfall.evaluation.crowd import frame_files, head_points, inside, load_mall, span_points

FPS = 2.0  # the Mall webcam's frame rate is "under 2 fps"
CAMERAS = Path(__file__).resolve().parents[2] / "configs" / "edge" / "detection-cameras.yaml"


def merged_frames(files, frames: int) -> list[Detections]:
    """Every frame's boxes (from 0.04) merged as the Mall camera of
    configs/edge/detection-cameras.yaml merges them: its tiles, merge IoU, containment and
    group boxes."""
    mall = load_edge_config(CAMERAS).cameras["mall"]
    grids = [mall.tiles] if isinstance(mall.tiles, tuple) else mall.tiles
    assert isinstance(grids, list), "the Mall camera's tiles are a list of grids"
    settings = EdgeConfig().detector.model_copy(
        update={"image_size": 640, "confidence": 0.04, "precision": "int8", "model": "yolov8n"}
    )
    detector = functools.cache(lambda: build_detector(settings, [str(MALL / "frames")]))
    tag = f"yolov8n-640-int8-o{mall.tile_overlap:g}"
    passes, _ = detect_passes(
        detector, files, list(range(frames)), grids, mall.tile_overlap, False, tag
    )
    out = []
    for k in range(frames):
        parts = [d for g in [(1, 1), *grids] for d in passes[g][k]]
        dets = merge(parts, mall.merge_iou, mall.merge_containment)
        groups = mall.drop_group_boxes
        out.append(drop_group_boxes(dets, groups) if groups is not None else dets)
    return out


def track_counts(
    merged: list[Detections], mask: np.ndarray, config: TrackerConfig, floor: float
) -> np.ndarray:
    """People per frame: the tracks whose first and last sightings span the frame."""
    tracker = build_tracker(config, FPS, use_embeddings=False)
    blank = np.zeros((*mask.shape, 3), np.uint8)
    seen: dict[str, dict[int, np.ndarray]] = {}
    for t, dets in enumerate(merged):
        out = tracker.update(dets[dets.confidence >= floor], blank)
        ids = out.tracker_id if out.tracker_id is not None else []
        for tid, box in zip(ids, out.xyxy, strict=True):
            seen.setdefault(str(tid), {})[t] = box
    spans = span_points(seen, range(len(merged)), 0.1)
    return np.array([inside(mask, spans[t]).sum() for t in range(len(merged))], float)


def floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--lows", default="0.06,0.08")
    parser.add_argument("--gates", default="0.5,0.8,1.0")
    parser.add_argument("--buffers", default="1.0,1.5")
    parser.add_argument("--confirms", default="0.1,0.12,0.15,0.2")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    heads, mask = load_mall(MALL / "mall_gt.mat", MALL / "perspective_roi.mat")
    files = frame_files(MALL / "frames")
    merged = merged_frames(files, args.frames)
    true = np.array([inside(mask, heads[i]).sum() for i in range(args.frames)], float)
    views = {
        "slice 1": np.arange(1, args.frames, 10)[:200],
        "slice 5": np.arange(5, args.frames, 10)[:200],
        "report": np.arange(0, args.frames, 4)[:500],
    }

    def row(counts: np.ndarray, name: str) -> tuple[float, list[float], str, float]:
        m = [float(np.mean(np.abs(counts[v] - true[v]) / true[v])) for v in views.values()]
        bias = float(np.mean((counts - true)[views["report"]]))
        return float(np.mean(m[:2])), m, name, bias

    def show(r: tuple[float, list[float], str, float]) -> None:
        mean, m, name, bias = r
        print(
            f"{100 * mean:5.2f} % ({100 * m[0]:.2f} / {100 * m[1]:.2f})   {100 * m[2]:5.2f} %"
            f"   {bias:+.2f}   {name}",
            flush=True,
        )

    print(
        f"Mall, {args.frames} frames at {FPS:g} fps; MAPE held out (slice 1 / slice 5), on the "
        "report's frames, bias on the report's frames, counter"
    )
    base = TrackerConfig()
    fixed = []
    for conf in (0.07, 0.08, 0.09):
        box_count = np.array(
            [inside(mask, head_points(d.xyxy[d.confidence >= conf], 0.1)).sum() for d in merged],
            float,
        )
        fixed.append(row(box_count, f"boxes from {conf:.2f} (the camera before: 0.08)"))
    botsort = base.model_copy(update={"track_low_thresh": 0.08, "track_high_thresh": 0.15})
    for new in (0.15, 0.7):
        config = botsort.model_copy(update={"new_track_thresh": new})
        name = f"BoT-SORT tracks, boxes from 0.08, new tracks from {new} (0.7: the default)"
        fixed.append(row(track_counts(merged, mask, config, 0.08), name))
    for r in fixed:
        show(r)
    rows = []
    grid = itertools.product(
        floats(args.lows), floats(args.gates), floats(args.buffers), floats(args.confirms)
    )
    for low, gate, buffer_s, confirm in grid:
        if confirm < low:
            continue
        config = base.model_copy(
            update={
                "type": "linker",
                "track_low_thresh": low,
                "new_track_thresh": confirm,
                "track_buffer_s": buffer_s,
                "link_gate": gate,
            }
        )
        name = f"linker: boxes from {low}, gate {gate}, buffer {buffer_s} s, shown from {confirm}"
        rows.append(row(track_counts(merged, mask, config, low), name))
    rows.sort(key=lambda r: r[0])
    print(f"the head linker, best {args.top} of {len(rows)} by the held-out mean:")
    for r in rows[: args.top]:
        show(r)


if __name__ == "__main__":
    main()
