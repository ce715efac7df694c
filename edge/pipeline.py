"""The per-frame pipeline: detect (batched across cameras) → embed → track → floor → messages.

``Engine`` owns the shared models (detector, embedder) and one ``CameraPipeline`` per camera.
``Engine.process`` takes one frame from each of several cameras, detects people in all of them
with one inference call, embeds all their crops in batches, then tracks, projects and turns each
camera's tracks into contract messages. Nothing here knows where frames come from or where the
messages go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.config import EdgeConfig
from edge.detection import Detections, Detector
from edge.geometry import FloorProjector
from edge.reid import Embedder, embed_detections
from edge.sources import Frame
from edge.tracking import BotSortTracker, Tracker
from edge.tracklets import TrackletBook, observation_quality
from footfall.contract import FrameObservations, Message, TrackObservation
from footfall.site import Camera

NO_EMBEDDING_MODEL = "none"


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
    ) -> None:
        self.camera_id = camera_id
        self.tracker = tracker
        self.identity = identity
        self.projector = projector
        self.book = book
        self.frames = 0

    def step(self, frame: Frame, detections: Detections) -> CameraResult:
        height, width = frame.image.shape[:2]
        tracks = self.tracker.update(detections, frame.image)
        floor_xy = self.projector.project(tracks) if self.projector is not None else None
        messages: list[Message] = []
        if self.identity is not None:
            messages.append(self._frame_message(frame, tracks, floor_xy, width, height))
        if self.book is not None and tracks.tracker_id is not None:
            quality = observation_quality(tracks.xyxy, tracks.confidence, width, height)
            messages.extend(
                self.book.observe(tracks.tracker_id, tracks.embedding, quality, frame.captured_at)
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
                if np.isfinite(fx) and np.isfinite(fy) and max(abs(fx), abs(fy)) <= 10_000:
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

    def process(self, frames: Sequence[Frame]) -> list[CameraResult]:
        """One frame each from several cameras (at most one per camera), in one batch."""
        images = [f.image for f in frames]
        detections = self.detector.detect(images)
        if self.embedder is not None:
            detections = embed_detections(self.embedder, images, detections, self.reid_batch_size)
        return [
            self.pipelines[f.camera_id].step(f, d) for f, d in zip(frames, detections, strict=True)
        ]

    def close(self) -> list[Message]:
        return [m for p in self.pipelines.values() for m in p.close()]


def camera_pipeline(
    config: EdgeConfig,
    camera_id: str,
    fps: float,
    *,
    embedder: Embedder | None,
    identity: Identity | None = None,
    camera: Camera | None = None,
) -> CameraPipeline:
    """A camera's pipeline from the edge config (and its site camera for floor positions)."""
    book = None
    if identity is not None and embedder is not None:
        book = TrackletBook(
            site_id=identity.site_id,
            camera_id=camera_id,
            node_id=identity.node_id,
            run_id=identity.run_id,
            embedding_model=embedder.model_name,
            end_after_s=config.tracklets.end_after_s,
            min_quality=config.tracklets.min_embedding_quality,
        )
    return CameraPipeline(
        camera_id,
        BotSortTracker(
            config.tracker,
            fps,
            use_embeddings=embedder is not None and config.tracker.use_appearance,
        ),
        identity=identity,
        projector=FloorProjector(camera) if camera is not None else None,
        book=book,
    )
