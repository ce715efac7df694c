"""The edge node: every camera of a site through one shared pipeline, published to a Sink.

One reader thread per camera decodes frames into a small queue (a live stream drops its oldest
frame when the pipeline falls behind and counts it; a replayed file waits). The main loop takes
the newest frame of every camera that has one, processes them as one batch (``Engine``),
publishes the messages, and sends each camera's heartbeat every ``heartbeat_interval_s``. A
camera whose source fails is reported (one sentence, heartbeat ``offline``) and the others carry
on. ``stop`` (SIGTERM / Ctrl-C) ends the run: open tracklets are ended, the sink is flushed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edge.metrics import NodeMetrics
from edge.pipeline import Engine
from edge.sink import Sink
from edge.sources import Frame, FrameSource, SourceError
from footfall.contract import CameraHeartbeat, CameraStatus

log = logging.getLogger(__name__)

_DONE = object()


@dataclass
class _CameraState:
    source: FrameSource
    target_fps: float
    live: bool
    queue: queue.Queue[object] = field(default_factory=lambda: queue.Queue(maxsize=2))
    frames: int = 0
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    error: str | None = None
    finished: bool = False
    interval_started: float = field(default_factory=time.monotonic)


class CameraReader(threading.Thread):
    """Decodes one camera's frames into its queue until the source ends or ``stop`` is set."""

    def __init__(self, state: _CameraState, stop: threading.Event) -> None:
        super().__init__(name=f"camera-{state.source.camera_id}", daemon=True)
        self.state = state
        self.stop = stop

    def run(self) -> None:
        q = self.state.queue
        try:
            for frame in self.state.source:
                if self.stop.is_set():
                    break
                if self.state.live:
                    while q.full():
                        try:
                            q.get_nowait()
                            self.state.dropped += 1
                        except queue.Empty:
                            break
                    q.put(frame)
                else:
                    while not self.stop.is_set():
                        try:
                            q.put(frame, timeout=0.2)
                            break
                        except queue.Full:
                            continue
        except SourceError as exc:
            self.state.error = str(exc)
            log.error("%s", exc)
        finally:
            q.put(_DONE)


class EdgeNode:
    """Runs ``sources`` (camera id → FrameSource) through ``engine`` into ``sink``."""

    def __init__(
        self,
        site_id: str,
        node_id: str,
        run_id: str,
        engine: Engine,
        sources: dict[str, tuple[FrameSource, bool]],
        sink: Sink,
        *,
        heartbeat_interval_s: float = 10.0,
        max_batch: int = 8,
        failed: dict[str, str] | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.site_id, self.node_id, self.run_id = site_id, node_id, run_id
        self.engine = engine
        self.sink = sink
        self.heartbeat_interval_s = heartbeat_interval_s
        self.max_batch = max_batch
        self.cameras = {
            cid: _CameraState(src, src.fps, live) for cid, (src, live) in sources.items()
        }
        self.failed = dict(failed or {})
        self.published = 0
        self.metrics = metrics

    def run(self, stop: threading.Event) -> int:
        """Process until every source has ended or ``stop`` is set; returns frames processed."""
        readers = [CameraReader(state, stop) for state in self.cameras.values()]
        for reader in readers:
            reader.start()
        for camera_id, sentence in self.failed.items():
            self._publish_heartbeat(camera_id, None, sentence)
        processed = 0
        try:
            while not stop.is_set() and not all(s.finished for s in self.cameras.values()):
                batch = self._next_batch()
                if batch:
                    started = time.perf_counter()
                    results = self.engine.process(batch)
                    if self.metrics is not None:
                        self.metrics.observe_batch(len(batch), time.perf_counter() - started)
                    for result in results:
                        now = datetime.now(UTC)
                        state = self.cameras[result.frame.camera_id]
                        for message in result.messages:
                            self._publish(message)
                        state.frames += 1
                        if self.metrics is not None:
                            self.metrics.observe_frame(result.frame.camera_id)
                        latency_s = (now - result.frame.captured_at).total_seconds()
                        state.latencies_ms.append(max(0.0, latency_s) * 1e3)
                    processed += len(batch)
                self._heartbeats(force=False)
        finally:
            stop.set()
            for message in self.engine.close():
                self._publish(message)
            self._heartbeats(force=True)
            self.sink.flush(timeout_s=30.0)
            for state in self.cameras.values():
                state.source.close()
        return processed

    def _publish(self, message: object) -> None:
        self.sink.publish(message)  # type: ignore[arg-type]
        self.published += 1

    def _next_batch(self) -> list[Frame]:
        batch: list[Frame] = []
        deadline = time.monotonic() + 0.05
        for state in self.cameras.values():
            if state.finished or len(batch) >= self.max_batch:
                continue
            timeout = max(0.0, deadline - time.monotonic())
            try:
                item = state.queue.get(timeout=timeout) if timeout else state.queue.get_nowait()
            except queue.Empty:
                continue
            if item is _DONE:
                state.finished = True
                continue
            assert isinstance(item, Frame)
            batch.append(item)
        return batch

    def _heartbeats(self, force: bool) -> None:
        now = time.monotonic()
        for camera_id, state in self.cameras.items():
            if force or now - state.interval_started >= self.heartbeat_interval_s:
                error = state.error or getattr(state.source, "last_error", None)
                self._publish_heartbeat(camera_id, state, error)

    def _publish_heartbeat(
        self, camera_id: str, state: _CameraState | None, error: str | None
    ) -> None:
        now = time.monotonic()
        interval = max(1e-3, now - state.interval_started) if state else self.heartbeat_interval_s
        frames = state.frames if state else 0
        fps = frames / interval
        latencies = sorted(state.latencies_ms) if state else []
        target = state.target_fps if state else 1.0
        if state is None or error is not None or (frames == 0 and not state.finished):
            status = CameraStatus.OFFLINE
        elif (state.dropped > 0 or fps < 0.8 * target) and not state.finished:
            status = CameraStatus.DEGRADED
        else:
            status = CameraStatus.OK
        detail = None if error is None else error[:200].replace("\n", " ")
        if self.metrics is not None:
            self.metrics.observe_camera(camera_id, fps, state.dropped if state else 0)
            self.metrics.observe_sink(self.sink)
        self._publish(
            CameraHeartbeat(
                site_id=self.site_id,
                camera_id=camera_id,
                node_id=self.node_id,
                run_id=self.run_id,
                sent_at=datetime.now(UTC),
                interval_s=float(min(interval, 3600.0)),
                frames=frames,
                fps=float(min(fps, 1000.0)),
                target_fps=float(target),
                latency_ms=float(min(sum(latencies) / len(latencies), 3.6e6))
                if latencies
                else None,
                latency_p95_ms=float(min(latencies[int(0.95 * (len(latencies) - 1))], 3.6e6))
                if latencies
                else None,
                dropped_frames=state.dropped if state else 0,
                status=status,
                detail=detail,
            )
        )
        if state is not None:
            state.frames, state.dropped, state.latencies_ms = 0, 0, []
            state.interval_started = now
