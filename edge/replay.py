"""Replaying one recorded camera through the full pipeline (for evaluation and annotated video).

The source is footage (a video, an image folder) or a MOTChallenge detection file (a camera
without pixels: no detector and no Re-ID run, the file's boxes are tracked).

Frames are paced in real time or run as fast as possible; a tqdm bar shows frames, fps and ETA.
Each frame's result goes to the given callbacks (MOT writer, annotated-video writer, …).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tqdm import tqdm

from edge.config import EdgeConfig
from edge.detection import Detections
from edge.detection_backends import build_camera_detector
from edge.pipeline import CameraResult, Engine, Identity, Overlapped, camera_pipeline
from edge.reid import build_embedder
from edge.sources import DetectionFileSource, FileSource, open_source, prefetched
from footfall.site import Camera

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplaySummary:
    frames: int
    seconds: float
    tracks: int
    stage_seconds: dict[str, float] | None = None
    """Wall seconds per stage (detect, reid, track); detect overlaps the other two."""
    reid_boxes: dict[str, int] | None = None
    """Boxes embedded (``computed``), carrying their track's embedding (``reused``), or never
    needing one (``skipped``: low scores) — see edge/reid/schedule.py."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def replay(
    source: str,
    camera_id: str,
    config: EdgeConfig,
    *,
    camera: Camera | None = None,
    fps: float | None = None,
    start_time: datetime | None = None,
    realtime: bool = False,
    max_frames: int | None = None,
    on_result: Sequence[Callable[[CameraResult], None]] = (),
    progress: bool = True,
    calibration: Sequence[str] | None = None,
    identity: Identity | None = None,
) -> ReplaySummary:
    """Run ``source`` through detect → Re-ID → track (→ floor, when ``camera`` is given).

    ``fps``: the real capture rate (default: the site camera's, else the container's);
    ``calibration``: footage for INT8 calibration (default: ``source`` itself);
    ``identity``: make contract messages as the edge node does (each result's ``messages``;
    tracklet ends come at the end of their track and, for those still open, with the last
    frame's result).
    Raises SourceError, WeightsError, DetectorBackendError or ReidError with one sentence.
    """
    frames = open_source(
        source,
        camera_id,
        fps=fps or (camera.fps if camera is not None else None),
        start_time=start_time,
        realtime=realtime,
        max_frames=max_frames,
        resolution=camera.resolution if camera is not None else None,
        min_score=config.detector.confidence,
    )
    pixels = not isinstance(frames, DetectionFileSource)
    detector = (
        build_camera_detector(config, calibration or [source], {camera_id: camera})
        if pixels
        else _NoDetector()
    )
    embedder = build_embedder(config.reid) if pixels else None
    pipeline = camera_pipeline(
        config,
        camera_id,
        frames.fps,
        embedder=embedder,
        identity=identity,
        camera=camera,
        pixels=pixels,
    )
    engine = Engine(detector, embedder, {camera_id: pipeline}, config.reid.batch_size)
    total = frames.frame_count() if isinstance(frames, FileSource | DetectionFileSource) else None
    bar = tqdm(total=total, unit="frame", desc=camera_id, disable=not progress, dynamic_ncols=True)
    seen: set[str] = set()
    count, started = 0, time.perf_counter()
    stages = Overlapped(engine)

    def deliver(results: list[CameraResult]) -> None:
        nonlocal count
        for result in results:
            if result.error is not None:
                log.warning("%s frame %d: %s", camera_id, result.frame.index, result.error)
            if result.tracks.tracker_id is not None:
                seen.update(str(t) for t in result.tracks.tracker_id)
            for callback in on_result:
                callback(result)
            count += 1
            bar.update(1)

    try:
        for frame in prefetched(frames):
            deliver(stages.submit([frame]))
        last = stages.drain()
        if last and identity is not None:  # the camera stops: its open tracklets end
            tail = last[-1]
            last[-1] = CameraResult(
                tail.frame, tail.tracks, tail.floor_xy, tail.messages + pipeline.close(), tail.error
            )
        deliver(last)
    finally:
        stages.close()
        bar.close()
        frames.close()
    schedule = pipeline.schedule
    boxes = None
    if schedule is not None:
        boxes = {
            "computed": schedule.computed,
            "reused": schedule.reused,
            "skipped": schedule.skipped,
        }
    return ReplaySummary(
        count, time.perf_counter() - started, len(seen), dict(engine.seconds), boxes
    )


class _NoDetector:
    """The detector of a camera replayed from a detection file: never asked (frames carry
    their detections)."""

    def detect(self, images: Sequence[object]) -> list[Detections]:
        raise RuntimeError("a detection-file camera has no detector")
