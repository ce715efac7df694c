"""Edge pipeline throughput on this machine: frames/s per detector backend and stage.

    python bench/edge/bench_edge.py [--frames 30] [--image-size 960] [--reid mobilenet_hist]
                                    [--backends torch,onnx,openvino] [--video FILE]

For every backend: detect only, detect + track (BoT-SORT), detect + track + Re-ID, and a batch
of 2 camera frames per detector call; printed as a table with the ratios between stages and
against the PyTorch backend. ONNX / OpenVINO models are exported once and cached (the export
time is not measured). Frames are decoded before timing. Numbers are wall-clock on whatever
else the machine is doing: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.config import DetectorConfig, EdgeConfig, ReidConfig, TrackerConfig
from edge.detection_backends import DetectorBackendError, build_detector
from edge.reid import build_embedder, embed_detections
from edge.sources import FileSource
from edge.tracking import BotSortTracker

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VIDEO = REPO / ".." / "shared" / "data" / "pets2009_s2l1" / "video" / "View_001_vtest.avi"
OSNET = REPO / ".." / "shared" / "models" / "osnet_x0_25_msmt17.onnx"


def _fps(frames: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return frames / (time.perf_counter() - started)


def bench_backend(
    backend: str, images: list[np.ndarray], image_size: int, reid: ReidConfig, fps: float
) -> dict[str, float]:
    detector = build_detector(DetectorConfig(backend=backend, image_size=image_size))
    embedder = build_embedder(reid)
    detector.detect(images[:2])  # warm up
    if embedder is not None:
        embed_detections(embedder, images[:1], detector.detect(images[:1]))
    n = len(images)
    results: dict[str, float] = {}
    results["detect"] = _fps(n, lambda: [detector.detect([img]) for img in images])
    pairs = [images[i : i + 2] for i in range(0, n - 1, 2)]
    results["detect x2 batched"] = _fps(2 * len(pairs), lambda: [detector.detect(p) for p in pairs])

    def track(with_reid: bool) -> None:
        tracker = BotSortTracker(TrackerConfig(), fps, use_embeddings=with_reid)
        for img in images:
            (dets,) = detector.detect([img])
            if with_reid and embedder is not None:
                (dets,) = embed_detections(embedder, [img], [dets])
            tracker.update(dets, img)

    results["detect+track"] = _fps(n, lambda: track(False))
    if embedder is not None:
        results["detect+track+reid"] = _fps(n, lambda: track(True))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--image-size", type=int, default=EdgeConfig().detector.image_size)
    parser.add_argument("--reid", default=EdgeConfig().reid.backend)
    parser.add_argument("--backends", default="torch,onnx,openvino")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    args = parser.parse_args()
    if not args.video.exists():
        print(f"bench-edge: {args.video} is not here; pass --video FILE", file=sys.stderr)
        return 1
    source = FileSource(str(args.video), "bench", max_frames=args.frames, fps=7.0)
    images = [f.image for f in source]
    weights = OSNET.resolve() if args.reid.startswith("osnet") else None
    reid = ReidConfig(backend=args.reid, weights=weights)
    h, w = images[0].shape[:2]
    print(
        f"edge bench: {len(images)} frames {w}x{h} of {args.video.name}, YOLOv8n at "
        f"{args.image_size} px, Re-ID {args.reid}, CPU"
    )
    table: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        try:
            table[backend] = bench_backend(backend, images, args.image_size, reid, source.fps)
        except DetectorBackendError as exc:
            print(f"  {backend}: skipped ({exc})")
    if not table:
        return 1
    stages = list(next(iter(table.values())))
    base = table.get("torch")
    header = f"{'backend':<10}" + "".join(f"{s:>20}" for s in stages) + f"{'vs torch (detect)':>20}"
    print(header)
    print("-" * len(header))
    for backend, row in table.items():
        cells = "".join(f"{row.get(s, float('nan')):>14.2f} fps  " for s in stages)
        speedup = f"{row['detect'] / base['detect']:>17.2f}x" if base else ""
        print(f"{backend:<10}{cells}{speedup}")
    print("\nratio to detect only (same backend):")
    for backend, row in table.items():
        ratios = "  ".join(f"{s} {row[s] / row['detect']:.2f}" for s in stages if s != "detect")
        print(f"  {backend:<10}{ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
