"""Tracking and message making in worker processes, one per group of cameras.

BoT-SORT updates, tracklet books and contract messages are Python work that holds the GIL; with
100+ cameras they need every core. ``TrackingWorkers`` spreads the cameras over ``processes``
worker processes (camera i goes to worker i mod processes, so a camera's frames always meet
its own tracker, in order). The engine hands over only boxes, scores and embeddings (no
pixels: the tracker needs the frame's size only, camera-motion compensation being off).

Back-pressure: each worker's input queue holds ``queue_depth`` frames; a frame for a worker whose
queue is full is skipped (never queued without bound) and counted in ``skipped`` per camera, so
a node that cannot keep up drops frames and keeps its latency.

Each worker publishes to its own sink: the benchmark's in-memory counter, or (``return_messages``)
the messages themselves sent back to the caller (tests, a node whose publisher lives in the main
process). Results carry the capture and publish times (``time.perf_counter()``, one clock for
every process on the machine) for capture-to-publish latency.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from edge.config import EdgeConfig
from edge.detection import Detections
from edge.pipeline import Identity


@dataclass(frozen=True)
class TrackRequest:
    """One camera frame's detections for its worker (boxes in frame pixels)."""

    camera_id: str
    index: int
    captured: float
    captured_at: datetime
    height: int
    width: int
    xyxy: np.ndarray
    confidence: np.ndarray
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class Published:
    """What a worker did with one frame: when it was captured and published, and its messages
    (``messages`` as contract JSON strings when asked for, else only ``count``)."""

    camera_id: str
    index: int
    captured: float
    published: float
    count: int
    tracks: int
    messages: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class _NamedEmbedder:
    """Stands for the engine's device embedder in a worker: its name, for tracklet messages."""

    model_name: str

    def embed(self, crops: Any) -> np.ndarray:  # pragma: no cover - never called in a worker
        raise RuntimeError("workers get embeddings from the engine, they do not embed")


def _work(
    config: EdgeConfig,
    cameras: dict[str, float],
    identity: Identity,
    embedding_model: str | None,
    inbox: Any,
    outbox: Any,
    return_messages: bool,
) -> None:
    import time

    import torch

    from edge.frames import Frame
    from edge.pipeline import camera_pipeline, describe

    torch.set_num_threads(1)
    embedder = _NamedEmbedder(embedding_model) if embedding_model else None
    pipelines = {}
    for camera_id, fps in cameras.items():
        pipeline = camera_pipeline(config, camera_id, fps, embedder=embedder, identity=identity)
        pipeline.schedule = None  # the engine embeds every confident box (refresh_s 0)
        pipelines[camera_id] = pipeline
    blank = np.zeros(3, np.uint8)
    outbox.put("ready")
    while True:
        request: TrackRequest | None = inbox.get()
        if request is None:
            break
        dets = Detections(xyxy=request.xyxy, confidence=request.confidence)
        if request.embedding is not None and len(request.embedding) == len(dets):
            dets = dets.with_embedding(request.embedding)
        image = np.broadcast_to(blank, (request.height, request.width, 3))
        frame = Frame(request.camera_id, request.index, request.captured_at, image)
        try:
            result = pipelines[request.camera_id].step(frame, dets)
            error = None
        except Exception as exc:
            result, error = None, describe(exc)
        messages = result.messages if result is not None else []
        outbox.put(
            Published(
                request.camera_id,
                request.index,
                request.captured,
                time.perf_counter(),
                len(messages),
                len(result.tracks) if result is not None else 0,
                tuple(m.model_dump_json() for m in messages) if return_messages else (),
                error,
            )
        )
    for camera_id, pipeline in pipelines.items():
        try:
            closing, error = pipeline.close(), None
        except Exception as exc:
            closing, error = [], describe(exc)
        outbox.put(
            Published(
                camera_id,
                -1,
                0.0,
                time.perf_counter(),
                len(closing),
                0,
                tuple(m.model_dump_json() for m in closing) if return_messages else (),
                error,
            )
        )
    outbox.put(None)


@dataclass
class TrackingWorkers:
    """``processes`` tracking processes for ``cameras`` (camera id -> frames per second)."""

    config: EdgeConfig
    cameras: Mapping[str, float]
    identity: Identity
    processes: int = 2
    queue_depth: int = 8
    embedding_model: str | None = None
    return_messages: bool = False
    submitted: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # No plain fork of a process holding torch threads or CUDA: a fork server that has
        # imported the tracking stack once starts every worker (cheap after the first).
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["edge.engine.workers", "edge.pipeline", "boxmot"])
        count = max(1, min(self.processes, len(self.cameras)))
        self._outbox: Any = context.Queue()
        self._inboxes: list[Any] = [context.Queue(self.queue_depth) for _ in range(count)]
        self._owner = {cam: i % count for i, cam in enumerate(self.cameras)}
        self._procs = []
        for w in range(count):
            mine = {c: fps for c, fps in self.cameras.items() if self._owner[c] == w}
            proc = context.Process(
                target=_work,
                args=(
                    self.config,
                    mine,
                    self.identity,
                    self.embedding_model,
                    self._inboxes[w],
                    self._outbox,
                    self.return_messages,
                ),
                name=f"tracking-{w}",
                daemon=True,
            )
            proc.start()
            self._procs.append(proc)
        self._finished = self._ready = 0
        self._early: list[Published] = []

    def submit(self, request: TrackRequest) -> bool:
        """Queue a frame for its camera's worker; False (and counted) if that worker is full."""
        try:
            self._inboxes[self._owner[request.camera_id]].put_nowait(request)
        except queue.Full:
            self.skipped[request.camera_id] += 1
            return False
        self.submitted[request.camera_id] += 1
        return True

    def results(self, timeout_s: float = 0.0) -> list[Published]:
        """Whatever the workers have published since the last call (waits up to timeout_s
        for the first)."""
        out, self._early = self._early, []
        block = timeout_s > 0
        while True:
            try:
                item = self._outbox.get(block, timeout_s) if block else self._outbox.get_nowait()
            except queue.Empty:
                return out
            block = False
            if item is None:
                self._finished += 1
            elif item == "ready":
                self._ready += 1
            else:
                out.append(item)

    def wait_ready(self, timeout_s: float = 120.0) -> bool:
        """Wait until every worker has built its cameras' trackers (True), or the timeout."""
        import time

        deadline = time.monotonic() + timeout_s
        early: list[Published] = []
        while self._ready < len(self._procs) and time.monotonic() < deadline:
            early.extend(self.results(timeout_s=0.2))
        self._early = early + self._early
        return self._ready >= len(self._procs)

    def close(self, timeout_s: float = 30.0) -> list[Published]:
        """Stop the workers after their queued frames; their last results (tracklets ended)."""
        for inbox in self._inboxes:
            inbox.put(None)
        out: list[Published] = []
        import time

        deadline = time.monotonic() + timeout_s
        while self._finished < len(self._procs) and time.monotonic() < deadline:
            out.extend(self.results(timeout_s=0.5))
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        return out
