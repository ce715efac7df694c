"""Tracker and Re-ID settings swept on every shared sequence, detector by detector.

    python bench/edge/sweep_tracking.py [--detector int8:640 --detector fp32:640 …]
        [--set tracker.appearance_thresh=0.12,0.3 --set reid.refresh_s=0,1 …] [--cache DIR]

The detector dominates the edge's cost, and tracking settings do not change what it finds: so
each sequence (PETS09-S2L1, TUD-Campus, TUD-Stadtmitte from ``../shared/data``) is run through
each detector once (OpenVINO at that precision and input size, INT8 calibrated on the demo
site's cameras as an edge node would), and its boxes are cached with the Re-ID embedding of every
box scored 0.3 or more (``--cache``, default ``.run/sweep-tracking``). Then every combination of
the ``--set`` values (edge config settings, dotted names; the defaults otherwise) is tracked on
those boxes with the node's own code (``edge.reid.schedule.ReidSchedule`` deciding which boxes
are embedded, ``edge.tracking.BotSortTracker``) and scored with ``edge.evaluate`` (TrackEval,
IoU >= 0.5). It prints, per detector and setting, IDF1 / MOTA and id switches per sequence,
the mean IDF1 and the line-count errors (|system - true| crossings of every line of
``configs/eval/all.yaml``, image and floor, counted as ``footfall eval`` counts them; their sum
first), then per setting the mean IDF1 over all detectors: settings are chosen on all
sequences and on more than one detector, because which identities swap on these short clips is
fragile (a slightly different detector moves a crossing).

The result is what ``footfall edge replay`` gives with those settings, up to the last digit of
the embeddings (Re-ID batches differ): verify a choice with ``footfall eval`` or
``make bench-edge``.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
DATA = (REPO / ".." / "shared" / "data").resolve()


@dataclass(frozen=True)
class Clip:
    name: str
    video: Path
    gt: Path
    fps: float


CLIPS = [
    Clip("PETS09-S2L1", DATA / "pets2009_s2l1/video/View_001_vtest.avi",
         DATA / "pets2009_s2l1/gt/mot15_gt.txt", 7.0),
    Clip("TUD-Campus", DATA / "mot15/TUD-Campus/TUD-Campus.mp4",
         DATA / "mot15/TUD-Campus/gt/gt.txt", 25.0),
    Clip("TUD-Stadtmitte", DATA / "mot15/TUD-Stadtmitte/TUD-Stadtmitte.mp4",
         DATA / "mot15/TUD-Stadtmitte/gt/gt.txt", 25.0),
]  # fmt: skip

Frames = tuple[tuple[int, ...], list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]]


def edge_config(values: dict[str, Any]) -> Any:
    from edge.config import EdgeConfig

    data: dict[str, dict[str, Any]] = {}
    for dotted, value in values.items():
        section, name = dotted.split(".", 1)
        data.setdefault(section, {})[name] = value
    return EdgeConfig.model_validate(data)  # what is left out: the defaults (of the embedder)


def detections(clip: Clip, config: Any, cache: Path) -> Frames:
    """Boxes, scores and embeddings (boxes scored >= 0.3) of every frame, cached."""
    d = config.detector
    key = (
        f"{clip.name}-{d.backend}-{d.precision}-{d.image_size}-{d.confidence}-{config.reid.backend}"
    )
    path = cache / f"{key}.pkl"
    if path.exists():
        frames: Frames = pickle.loads(path.read_bytes())
        return frames
    import cv2

    from edge.detection_backends import build_detector
    from edge.reid import build_embedder, crop
    from footfall.site import load_site

    site = load_site(REPO / "configs" / "sites" / "demo.yaml")
    detector = build_detector(d, [c.source for c in site.cameras])
    embedder = build_embedder(config.reid)
    capture = cv2.VideoCapture(str(clip.video))
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    shape: tuple[int, ...] = ()
    while True:
        ok, image = capture.read()
        if not ok:
            break
        shape = image.shape
        found = detector.detect([image])[0].clipped(image.shape[1], image.shape[0])
        vectors = None
        if embedder is not None:
            chosen = np.flatnonzero(found.confidence >= 0.3)
            vectors = np.zeros((len(found), 0), np.float32)
            if len(chosen):
                some = embedder.embed([crop(image, found.xyxy[i]) for i in chosen])
                vectors = np.zeros((len(found), some.shape[1]), np.float32)
                vectors[chosen] = some
        rows.append((found.xyxy.copy(), found.confidence.copy(), vectors))
    capture.release()
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((shape, rows)))
    return shape, rows


def track(clip: Clip, config: Any, frames: Frames, out: Path) -> dict[str, float]:
    """The node's Re-ID schedule and tracker on cached boxes; TrackEval scores."""
    from edge.detection import Detections
    from edge.evaluate import evaluate
    from edge.reid.schedule import ReidSchedule
    from edge.tracking import BotSortTracker

    shape, rows = frames
    image = np.zeros(shape, np.uint8)  # the tracker reads only its size (no camera motion)
    appearance = config.reid.backend != "none"
    tracker = BotSortTracker(
        config.tracker, clip.fps, use_embeddings=appearance and config.tracker.use_appearance
    )
    schedule = None
    if appearance:
        schedule = ReidSchedule(
            clip.fps,
            high_score=config.tracker.track_high_thresh,
            refresh_s=config.reid.refresh_s,
            reuse_iou=config.reid.reuse_iou,
            min_crop_px=config.reid.min_crop_px,
            keep_s=min(config.tracker.track_buffer_s, 2.0),
        )
    lines: list[str] = []
    numbers: dict[str, int] = {}
    for index, (xyxy, confidence, vectors) in enumerate(rows):
        dets = Detections(xyxy=xyxy, confidence=confidence)
        if schedule is not None and vectors is not None:
            plan = schedule.plan(dets)
            embed = plan.embed
            dim = vectors.shape[1] if embed.any() else 0
            if not dim and plan.reuse is not None:
                dim = plan.reuse.shape[1]
            full = np.zeros((len(dets), dim), np.float32)
            if plan.reuse is not None and plan.reuse.shape[1] == dim:
                full[~embed] = plan.reuse[~embed]
            if embed.any():
                full[embed] = vectors[embed]
            dets = dets.with_embedding(full, fresh=embed)
        tracks = tracker.update(dets, image)
        if schedule is not None:
            schedule.after_tracking(tracks)
        assert tracks.tracker_id is not None
        for i, tid in enumerate(tracks.tracker_id):
            n = numbers.setdefault(str(tid), len(numbers) + 1)
            x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[i])
            lines.append(f"{index + 1},{n},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                         f"{float(tracks.confidence[i]):.3f},-1,-1,-1\n")  # fmt: skip
    out.write_text("".join(lines))
    scores = evaluate(out, clip.gt)
    return {
        "idf1": scores.idf1,
        "mota": scores.mota,
        "idsw": scores.id_switches,
        "lines": line_errors(clip, out),
    }


def line_errors(clip: Clip, result: Path) -> dict[str, int]:
    """|system - true| crossings per line of ``configs/eval/all.yaml`` (image lines and the
    demo site's floor lines), as ``footfall eval`` counts them."""
    from edge.evaluate import load_mot
    from footfall.evaluation.manifest import load_manifest
    from footfall.evaluation.runner import count_sequence

    manifest = load_manifest(REPO / "configs" / "eval" / "all.yaml")
    entry = next(s for s in manifest.sequences if s.name == clip.name)
    gt = load_mot(clip.gt, ground_truth=True)
    return {
        c.line_id: abs(c.system_in - c.true_in) + abs(c.system_out - c.true_out)
        for result in count_sequence(manifest, entry, gt, load_mot(result), clip.fps)
        for c in result.lines
    }


def parse_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--detector", action="append", metavar="PRECISION:SIZE",
        help="OpenVINO detector, e.g. int8:640 (repeatable; default int8:640 and fp32:640)",
    )  # fmt: skip
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=V1,V2",
        help="edge config setting and the values to try, e.g. tracker.appearance_thresh=0.12,0.3",
    )  # fmt: skip
    parser.add_argument("--cache", type=Path, default=REPO / ".run" / "sweep-tracking")
    args = parser.parse_args()
    missing = [str(c.video) for c in CLIPS if not c.video.exists() or not c.gt.exists()]
    if missing:
        print(f"sweep-tracking: footage not here: {', '.join(missing)}", file=sys.stderr)
        return 1
    grid: dict[str, list[Any]] = {}
    for item in args.set:
        name, _, values = item.partition("=")
        if "." not in name or not values:
            print(f"sweep-tracking: --set {item}: write NAME=V1,V2 (e.g. "
                  "tracker.appearance_thresh=0.12,0.3)", file=sys.stderr)  # fmt: skip
            return 2
        grid[name] = [parse_value(v) for v in values.split(",")]
    settings = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    detectors = []
    for spec in args.detector or ["int8:640", "fp32:640"]:
        precision, _, size = spec.partition(":")
        detectors.append({"detector.precision": precision, "detector.image_size": int(size)})
    import logging

    logging.basicConfig(level=logging.WARNING)
    work = args.cache / "results"
    work.mkdir(parents=True, exist_ok=True)
    means: dict[str, list[float]] = {}
    print(f"{'detector':<10}{'setting':<48}{'mean IDF1':>10}"
          + "".join(f"{c.name + ' IDF1/MOTA/IDsw':>34}" for c in CLIPS)
          + "   line |error| (per line)")  # fmt: skip
    for det in detectors:
        label = f"{det['detector.precision']}:{det['detector.image_size']}"
        for setting in settings:
            config = edge_config({**det, **setting})
            cells, idf1, errors = [], [], {}
            for clip in CLIPS:
                s = track(clip, config, detections(clip, config, args.cache), work / "out.txt")
                idf1.append(s["idf1"])
                errors.update(s["lines"])
                cells.append(f"{s['idf1']:.3f} / {s['mota']:.3f} / {s['idsw']:>3}")
            name = " ".join(f"{k.split('.')[-1]}={v}" for k, v in setting.items()) or "defaults"
            means.setdefault(name, []).append(float(np.mean(idf1)))
            line_text = " ".join(f"{k}:{v}" for k, v in errors.items())
            print(f"{label:<10}{name:<48}{np.mean(idf1):>10.3f}"
                  + "".join(f"{c:>34}" for c in cells)
                  + f"   {sum(errors.values()):>3} ({line_text})", flush=True)  # fmt: skip
    print(f"\nmean IDF1 over the {len(CLIPS)} sequences and {len(detectors)} detectors:")
    for name, values in sorted(means.items(), key=lambda kv: -float(np.mean(kv[1]))):
        print(f"  {name:<48}{np.mean(values):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
