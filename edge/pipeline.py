"""The per-frame pipeline: detect (batched across cameras) → embed → track → floor → messages.

``Engine`` owns the shared models (detector, embedder) and one ``CameraPipeline`` per camera.
``Engine.process`` takes one frame from each of several cameras, detects people in all of them
with one inference call (``detect``), then (``finish``) embeds the crops that each camera's
``ReidSchedule`` asks for in batches across cameras, and tracks, projects and turns each camera's
tracks into contract messages. The two halves can run on different threads, one batch apart
(the node overlaps the detector of one step with the tracking of the previous).

A failure while processing one camera's frame (the detector, Re-ID or tracker raising) never
takes the others down: that camera's ``CameraResult`` carries ``error`` (one line naming the
exception) and no messages. Nothing here knows where frames come from or where messages go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from edge.config import EdgeConfig
from edge.detection import Detections, Detector
from edge.frames import Frame
from edge.geometry import FloorProjector
from edge.reid import Embedder, embed_detections
from edge.reid.schedule import ReidSchedule
from edge.tracking import Tracker, build_tracker
from edge.tracklets import TrackletBook, observation_quality
from footfall.contract import MAX_FLOOR_EXTENT_M, FrameObservations, Message, TrackObservation
from footfall.site import Camera


def describe(exc: BaseException) -> str:
    """One line naming an unexpected exception (for logs and heartbeat details)."""
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text}"[:180]


@dataclass(frozen=True)
class Identity:
    """Who is publishing: ``site_id``, ``node_id`` and the random ``run_id`` of this process."""

    site_id: str
    node_id: str
    run_id: str


@dataclass(frozen=True)
class CameraResult:
    """What one camera's frame produced: its confirmed tracks and the messages to publish."""

    frame: Frame
    tracks: Detections
    floor_xy: np.ndarray | None
    messages: list[Message]
    error: str | None = None
    """Set (one line) when processing this frame raised; then there are no tracks or messages."""


def _failed(frame: Frame, error: str) -> CameraResult:
    return CameraResult(frame, Detections(), None, [], error)


class CameraPipeline:
    """Tracking, floor projection and message making for one camera."""

    def __init__(
        self,
        camera_id: str,
        tracker: Tracker,
        *,
        identity: Identity | None = None,
        projector: FloorProjector | None = None,
        book: TrackletBook | None = None,
        schedule: ReidSchedule | None = None,
        new_tracker: Callable[[], Tracker] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.tracker = tracker
        self.identity = identity
        self.projector = projector
        self.book = book
        self.schedule = schedule
        self._new_tracker = new_tracker
        self.frames = 0

    def reset(self) -> list[Message]:
        """Start this camera afresh after a failure: end its open tracklets, new tracker."""
        messages = self.close()
        if self._new_tracker is not None:
            self.tracker = self._new_tracker()
        if self.schedule is not None:
            self.schedule = replace(self.schedule, _frame=0, _tracks={})
        return messages

    def step(self, frame: Frame, detections: Detections) -> CameraResult:
        height, width = frame.image.shape[:2]
        tracks = self.tracker.update(detections, frame.image)
        if self.schedule is not None:
            self.schedule.after_tracking(tracks)
        floor_xy = self.projector.project(tracks) if self.projector is not None else None
        messages: list[Message] = []
        if self.identity is not None:
            messages.append(self._frame_message(frame, tracks, floor_xy, width, height))
        if self.book is not None and tracks.tracker_id is not None:
            quality = observation_quality(tracks.xyxy, tracks.confidence, width, height)
            embedding = tracks.embedding
            if embedding is not None and tracks.fresh is not None:
                embedding = np.where(tracks.fresh[:, None], embedding, 0.0)  # own crops only
            messages.extend(
                self.book.observe(tracks.tracker_id, embedding, quality, frame.captured_at)
            )
        self.frames += 1
        return CameraResult(frame, tracks, floor_xy, messages)

    def close(self) -> list[Message]:
        """Messages ending every open tracklet (call when the camera stops)."""
        return list(self.book.close()) if self.book is not None else []

    def _frame_message(
        self,
        frame: Frame,
        tracks: Detections,
        floor_xy: np.ndarray | None,
        width: int,
        height: int,
    ) -> FrameObservations:
        assert self.identity is not None and tracks.tracker_id is not None
        observations = []
        for i, tid in enumerate(tracks.tracker_id):
            x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[i])
            floor: dict[str, object] = {}
            if floor_xy is not None and self.projector is not None:
                fx, fy = (float(v) for v in floor_xy[i])
                if (
                    np.isfinite(fx)
                    and np.isfinite(fy)
                    and max(abs(fx), abs(fy)) <= MAX_FLOOR_EXTENT_M
                ):
                    floor = {"floor_id": self.projector.floor_id, "floor_xy": (fx, fy)}
            observations.append(
                TrackObservation(
                    track_id=str(tid),
                    box=(x1, y1, x2, y2),
                    confidence=float(np.clip(tracks.confidence[i], 0.0, 1.0)),
                    **floor,
                )
            )
        return FrameObservations(
            site_id=self.identity.site_id,
            camera_id=self.camera_id,
            node_id=self.identity.node_id,
            run_id=self.identity.run_id,
            frame_index=frame.index,
            captured_at=frame.captured_at,
            image_width=width,
            image_height=height,
            tracks=tuple(observations),
        )


class Engine:
    """Shared detector and embedder, and the pipelines of every camera they serve."""

    def __init__(
        self,
        detector: Detector,
        embedder: Embedder | None,
        pipelines: dict[str, CameraPipeline],
        reid_batch_size: int = 32,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.pipelines = pipelines
        self.reid_batch_size = reid_batch_size
        self.seconds = {"detect": 0.0, "reid": 0.0, "track": 0.0}
        """Wall seconds spent in each stage since start (for benchmarks and profiling)."""

    def detect(self, frames: Sequence[Frame]) -> list[Detections | str]:
        """People in every frame, one detector call; a frame it fails on gets the error line.

        Frames that come with their detections (a detection-file camera) keep them."""
        if not frames:
            return []
        if any(f.detections is not None for f in frames):
            pending = [i for i, f in enumerate(frames) if f.detections is None]
            found = dict(zip(pending, self.detect([frames[i] for i in pending]), strict=True))
            return [
                f.detections if f.detections is not None else found[i] for i, f in enumerate(frames)
            ]
        started = time.perf_counter()
        try:
            per_camera = getattr(self.detector, "detect_cameras", None)  # edge/tiling.py
            if per_camera is not None:
                return list(per_camera([f.camera_id for f in frames], [f.image for f in frames]))
            return list(self.detector.detect([f.image for f in frames]))
        except Exception as exc:  # isolate the frame that fails: one call per frame
            if len(frames) == 1:
                return [describe(exc)]
            return [self.detect([f])[0] for f in frames]
        finally:
            self.seconds["detect"] += time.perf_counter() - started

    def finish(
        self, frames: Sequence[Frame], detections: Sequence[Detections | str]
    ) -> list[CameraResult]:
        """Re-ID (as each camera's schedule asks, batched), tracking, floor and messages."""
        results: dict[int, CameraResult] = {}
        ready: list[int] = []
        plans: dict[int, tuple[np.ndarray | None, np.ndarray | None]] = {}
        for i, (frame, dets) in enumerate(zip(frames, detections, strict=True)):
            if isinstance(dets, str):
                results[i] = _failed(frame, dets)
                continue
            schedule = self.pipelines[frame.camera_id].schedule
            try:
                plan = schedule.plan(dets) if schedule is not None else None
            except Exception as exc:
                results[i] = _failed(frame, describe(exc))
                continue
            plans[i] = (None, None) if plan is None else (plan.embed, plan.reuse)
            ready.append(i)
        started = time.perf_counter()
        embedded = dict(zip(ready, self._embed(frames, detections, ready, plans), strict=True))
        tracking = time.perf_counter()
        self.seconds["reid"] += tracking - started
        for i in ready:
            frame, dets = frames[i], embedded[i]
            if isinstance(dets, str):
                results[i] = _failed(frame, dets)
                continue
            try:
                results[i] = self.pipelines[frame.camera_id].step(frame, dets)
            except Exception as exc:
                results[i] = _failed(frame, describe(exc))
        self.seconds["track"] += time.perf_counter() - tracking
        return [results[i] for i in range(len(frames))]

    def _embed(
        self,
        frames: Sequence[Frame],
        detections: Sequence[Detections | str],
        ready: list[int],
        plans: dict[int, tuple[np.ndarray | None, np.ndarray | None]],
    ) -> list[Detections | str]:
        dets = [detections[i] for i in ready]
        if self.embedder is None or not ready:
            return list(dets)
        if any(not frames[i].pixels for i in ready):  # no crops from a camera without pixels
            seeing = [i for i in ready if frames[i].pixels]
            done = dict(zip(seeing, self._embed(frames, detections, seeing, plans), strict=True))
            return [done[i] if i in done else detections[i] for i in ready]
        try:
            return list(
                embed_detections(
                    self.embedder,
                    [frames[i].image for i in ready],
                    dets,  # type: ignore[arg-type]
                    self.reid_batch_size,
                    select=[plans[i][0] for i in ready],
                    reuse=[plans[i][1] for i in ready],
                )
            )
        except Exception as exc:
            if len(ready) == 1:
                return [describe(exc)]
            return [self._embed(frames, detections, [i], plans)[0] for i in ready]

    def reset_camera(self, camera_id: str) -> list[Message]:
        """A fresh tracker for a camera that failed (its open tracklets are ended)."""
        return self.pipelines[camera_id].reset()

    def close(self) -> list[Message]:
        return [m for p in self.pipelines.values() for m in p.close()]


class Overlapped:
    """Runs the detector on one batch while the previous batch is tracked on a worker thread.

    OpenVINO and OpenCV release the GIL, so the detector (on the caller's thread) and Re-ID,
    tracking and message making (on the worker) keep two cores busy. ``submit`` returns the
    results of the batch submitted before (empty the first time); ``drain`` the last ones.
    Results come out in submission order.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="track")
        self._pending: Future[list[CameraResult]] | None = None

    def submit(self, frames: Sequence[Frame]) -> list[CameraResult]:
        detections = self.engine.detect(frames)
        done = self.drain()
        self._pending = self._worker.submit(self.engine.finish, list(frames), detections)
        return done

    def drain(self) -> list[CameraResult]:
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else []

    def close(self) -> None:
        self._worker.shutdown(wait=True)


def camera_pipeline(
    config: EdgeConfig,
    camera_id: str,
    fps: float,
    *,
    embedder: Embedder | None,
    identity: Identity | None = None,
    camera: Camera | None = None,
    pixels: bool = True,
) -> CameraPipeline:
    """A camera's pipeline from the edge config (and its site camera for floor positions).

    ``pixels``: False for a camera replayed from a detection file: no Re-ID for it (its
    tracklets end without an embedding), the same tracking, floor and messages otherwise."""
    if not pixels:
        embedder = None
    book = None
    if identity is not None:
        book = TrackletBook(
            site_id=identity.site_id,
            camera_id=camera_id,
            node_id=identity.node_id,
            run_id=identity.run_id,
            embedding_model=embedder.model_name if embedder is not None else None,
            end_after_s=config.tracklets.end_after_s,
            min_quality=config.tracklets.min_embedding_quality,
        )

    tracking = config.tracker_for(camera_id)

    def new_tracker() -> Tracker:
        return build_tracker(
            tracking, fps, use_embeddings=embedder is not None and tracking.use_appearance
        )

    schedule = None
    if embedder is not None:
        schedule = ReidSchedule(
            fps,
            high_score=tracking.track_high_thresh,
            refresh_s=config.reid.refresh_s,
            reuse_iou=config.reid.reuse_iou,
            min_crop_px=config.reid.min_crop_px,
            keep_s=min(tracking.track_buffer_s, 2.0),
        )
    return CameraPipeline(
        camera_id,
        new_tracker(),
        identity=identity,
        projector=FloorProjector(camera) if camera is not None else None,
        book=book,
        schedule=schedule,
        new_tracker=new_tracker,
    )
