"""The edge node: every camera of a site through one shared pipeline, published to a Sink.

One reader thread per camera decodes frames for the main loop. A *paced* camera (a live stream,
or a file replayed in real time) keeps only its newest frame: when the main loop has not taken
the previous one yet, it is replaced and counted as skipped, so every camera is processed at
min(its fps, the node's step rate), skipping evenly, and latency stays bounded. A fast replay
waits instead (nothing is lost). Each step the main loop takes the newest frame of every camera
that has one and processes them as one batch (``Engine``): the detector of one step runs on a
second thread while the previous step is tracked and published, one camera's messages in order.

A camera whose processing raises is isolated: one log line, its open tracklets are ended, an
``error`` heartbeat names the exception, and it is paused with exponential backoff (frames that
arrive meanwhile are discarded and counted as dropped) before it is tried again; the others never
stop. A camera whose source fails is reported (heartbeat ``offline``) and the others carry on;
one whose source is already down at start (a stream that did not open) gets its ``offline``
heartbeat at once, and one that gives up (a bounded run's dead stream) ends, so the run does.

Every ``heartbeat_interval_s`` each camera gets a heartbeat whose status says how it does:
``offline`` (no frames), ``error`` (processing raises), ``degraded`` (a paced camera processed
below 90 % of its fps, or its p95 capture-to-publish latency is over ``max_latency_s``; the detail
says which) or ``ok``. ``stop`` (SIGTERM / Ctrl-C) ends the run: open tracklets are ended, the
sink is flushed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edge.detection import Detections
from edge.frames import Frame, FrameSource
from edge.metrics import NodeMetrics
from edge.pipeline import Engine, describe
from edge.sink import Sink
from edge.streams import Backoff
from footfall.contract import (
    MAX_DETAIL_CHARS,
    MAX_FPS,
    MAX_INTERVAL_S,
    MAX_LATENCY_MS,
    CameraHeartbeat,
    CameraStatus,
    Message,
)
from footfall.errors import UserError

log = logging.getLogger(__name__)

UNPACED_QUEUE = 2
"""Frames a fast-replay reader decodes ahead of the main loop before it waits."""

RATE_TOLERANCE = 0.9
"""A paced camera processed below this fraction of its fps is degraded."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class _CameraState:
    source: FrameSource
    target_fps: float
    paced: bool
    backoff: Backoff
    # Handed over under the node's condition (reader → main loop):
    pending: deque[Frame] = field(default_factory=deque)
    ended: float | None = None  # monotonic time the reader stopped
    arrived: int = 0  # frames decoded this interval
    skipped: int = 0  # paced frames replaced before the main loop took them, this interval
    source_error: str | None = None
    # Main loop only:
    finished: bool = False
    frames: int = 0  # processed this interval
    discarded: int = 0  # dropped during an error backoff, this interval
    latencies_ms: list[float] = field(default_factory=list)
    failure: str | None = None  # the last processing error, until a frame succeeds again
    paused_until: float = 0.0
    interval_started: float = field(default_factory=time.monotonic)


class CameraReader(threading.Thread):
    """Decodes one camera's frames for the main loop until the source ends or ``stop`` is set."""

    def __init__(
        self, state: _CameraState, stop: threading.Event, handover: threading.Condition
    ) -> None:
        super().__init__(name=f"camera-{state.source.camera_id}", daemon=True)
        self.state = state
        self.stop = stop
        self.handover = handover

    def run(self) -> None:
        state = self.state
        try:
            for frame in state.source:
                if self.stop.is_set():
                    break
                with self.handover:
                    if state.paced:
                        if state.pending:  # not taken yet: keep only the newest
                            state.pending.popleft()
                            state.skipped += 1
                    else:
                        while len(state.pending) >= UNPACED_QUEUE and not self.stop.is_set():
                            self.handover.wait(0.2)
                        if self.stop.is_set():
                            break
                    state.pending.append(frame)
                    state.arrived += 1
                    self.handover.notify_all()
        except UserError as exc:  # a source that failed, or a stream that gave up
            state.source_error = str(exc)
            log.error("%s", exc)
        except Exception as exc:  # a broken decoder takes only its own camera down
            state.source_error = f"Camera {state.source.camera_id}: reading failed: {describe(exc)}"
            log.error("%s", state.source_error)
        finally:
            with self.handover:
                state.ended = time.monotonic()
                self.handover.notify_all()


class EdgeNode:
    """Runs ``sources`` (camera id → (FrameSource, paced)) through ``engine`` into ``sink``.

    ``paced``: the source delivers frames in real time (a stream, a ``--realtime`` replay), so
    the node keeps only its newest frame and holds it to its fps and ``max_latency_s``; else the
    reader waits for the node. ``error_backoff_s`` / ``max_error_backoff_s``: the first and the
    longest pause of a camera whose processing raised. ``overlap``: run the detector of one step
    on a second thread while the previous step is tracked and published.
    """

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
        max_latency_s: float = 1.0,
        error_backoff_s: float = 1.0,
        max_error_backoff_s: float = 60.0,
        overlap: bool = True,
        failed: dict[str, str] | None = None,
        metrics: NodeMetrics | None = None,
    ) -> None:
        self.site_id, self.node_id, self.run_id = site_id, node_id, run_id
        self.engine = engine
        self.sink = sink
        self.heartbeat_interval_s = heartbeat_interval_s
        self.max_batch = max_batch
        self.max_latency_s = max_latency_s
        self.overlap = overlap
        self.cameras = {
            cid: _CameraState(src, src.fps, paced, Backoff(error_backoff_s, max_error_backoff_s))
            for cid, (src, paced) in sources.items()
        }
        self.failed = dict(failed or {})
        self.published = 0
        self.metrics = metrics
        self._handover = threading.Condition()
        self._turn = 0  # which camera is first in line for the batch (fair beyond max_batch)

    def run(self, stop: threading.Event) -> int:
        """Process until every source has ended or ``stop`` is set; returns frames processed."""
        readers = [CameraReader(s, stop, self._handover) for s in self.cameras.values()]
        started = time.monotonic()
        for state in self.cameras.values():
            state.interval_started = started
        for reader in readers:
            reader.start()
        for camera_id, sentence in self.failed.items():
            self._publish_heartbeat(camera_id, None, sentence)
        for camera_id, state in self.cameras.items():
            if getattr(state.source, "last_error", None):  # down already (a stream's probe)
                self._publish_heartbeat(camera_id, state, None)
        processed = 0
        executor = ThreadPoolExecutor(1, thread_name_prefix="detect") if self.overlap else None
        inflight: tuple[list[Frame], Future[tuple[list[Detections | str], float]]] | None = None
        try:
            while not stop.is_set():
                if inflight is None and all(s.finished for s in self.cameras.values()):
                    break
                previous = None
                if inflight is not None:
                    previous = (inflight[0], *inflight[1].result())
                    inflight = None
                batch = self._next_batch(timeout_s=0.0 if previous is not None else 0.05)
                if batch and executor is not None:
                    inflight = (batch, executor.submit(self._detect, batch))
                elif batch:
                    processed += self._finish(batch, *self._detect(batch))
                if previous is not None:
                    processed += self._finish(*previous)
                self._heartbeats(force=False)
            if inflight is not None:  # stopped: publish what was taken
                processed += self._finish(inflight[0], *inflight[1].result())
        finally:
            stop.set()
            with self._handover:
                self._handover.notify_all()
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
            for message in self.engine.close():
                self._publish(message)
            self._heartbeats(force=True)
            self.sink.flush(timeout_s=30.0)
            for state in self.cameras.values():
                state.source.close()
        return processed

    def _publish(self, message: Message) -> None:
        self.sink.publish(message)
        self.published += 1

    def _detect(self, batch: list[Frame]) -> tuple[list[Detections | str], float]:
        started = time.perf_counter()
        return self.engine.detect(batch), time.perf_counter() - started

    def _next_batch(self, timeout_s: float) -> list[Frame]:
        """The newest frame of every camera that has one (waits up to ``timeout_s`` for one)."""
        deadline = time.monotonic() + timeout_s
        order = list(self.cameras.values())
        if not order:
            return []
        self._turn = (self._turn + 1) % len(order)
        order = order[self._turn :] + order[: self._turn]
        batch: list[Frame] = []
        with self._handover:
            while True:
                now = time.monotonic()
                for state in order:
                    if state.finished:
                        continue
                    if not state.pending:
                        state.finished = state.ended is not None
                        continue
                    if now < state.paused_until:  # error backoff: discard, count
                        state.discarded += len(state.pending)
                        state.pending.clear()
                    elif len(batch) < self.max_batch:
                        batch.append(state.pending.popleft())
                self._handover.notify_all()  # room again for readers that wait
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or all(s.finished for s in order):
                    return batch
                self._handover.wait(remaining)

    def _finish(
        self, frames: Sequence[Frame], detections: Sequence[Detections | str], detect_s: float
    ) -> int:
        """Track and publish one batch; returns the frames processed without error."""
        now = time.monotonic()
        keep = [i for i, f in enumerate(frames) if now >= self.cameras[f.camera_id].paused_until]
        for i in set(range(len(frames))) - set(keep):  # failed while this frame was in flight
            state = self.cameras[frames[i].camera_id]
            state.discarded += 1
        if not keep:
            return 0
        frames, detections = [frames[i] for i in keep], [detections[i] for i in keep]
        started = time.perf_counter()
        results = self.engine.finish(frames, detections)
        if self.metrics is not None:
            self.metrics.observe_batch(len(frames), detect_s + time.perf_counter() - started)
        processed = 0
        for result in results:
            camera_id = result.frame.camera_id
            state = self.cameras[camera_id]
            if result.error is not None:
                self._fail(camera_id, state, result.error)
                continue
            for message in result.messages:
                self._publish(message)
            latency_s = max(0.0, (datetime.now(UTC) - result.frame.captured_at).total_seconds())
            state.frames += 1
            state.latencies_ms.append(latency_s * 1e3)
            if state.failure is not None:
                log.info("camera %s: processing again", camera_id)
                state.failure = None
                state.backoff.reset()
            if self.metrics is not None:
                self.metrics.observe_frame(camera_id, latency_s)
            processed += 1
        return processed

    def _fail(self, camera_id: str, state: _CameraState, error: str) -> None:
        """Isolate a camera whose frame raised: end its tracklets, report, pause with backoff."""
        delay = state.backoff.next_delay()
        state.paused_until = time.monotonic() + delay
        state.failure = error
        try:
            messages = self.engine.reset_camera(camera_id)
        except Exception as exc:
            messages = []
            error = f"{error} (and resetting it raised {describe(exc)})"
        log.error("camera %s: %s; retrying in %g s", camera_id, error, delay)
        for message in messages:
            self._publish(message)
        self._publish_heartbeat(camera_id, state, None)

    def _heartbeats(self, force: bool) -> None:
        now = time.monotonic()
        for camera_id, state in self.cameras.items():
            if force or now - state.interval_started >= self.heartbeat_interval_s:
                self._publish_heartbeat(camera_id, state, None)

    def _health(
        self,
        state: _CameraState,
        window_s: float,
        interval_s: float,
        counts: tuple[int, int, bool],
    ) -> tuple[CameraStatus, str | None]:
        """Status and the one-sentence reason of a camera over its current interval.

        ``window_s``: the part of the interval while its source delivered frames; ``counts``:
        frames skipped and arrived in the interval, and whether one waits now.
        """
        skipped, arrived, pending = counts
        source_error = state.source_error or getattr(state.source, "last_error", None)
        if source_error:
            return CameraStatus.OFFLINE, source_error
        if state.failure is not None:
            return CameraStatus.ERROR, state.failure
        if state.frames == 0 and arrived == 0 and not pending:
            if state.ended is None:
                silent = f"no frame arrived from the camera for {interval_s:.0f} s"
                return CameraStatus.OFFLINE, silent
            # a recorded file played to its end: nothing is processed, so not ``ok`` at 0 fps
            return CameraStatus.OFFLINE, "the recorded footage has ended: no frames to process"
        if not state.paced:  # a fast replay has no rate or latency to keep
            return CameraStatus.OK, None
        reasons = []
        target = state.target_fps
        # One frame of slack, so that a short window (the last one) is not judged on rounding.
        if window_s > 0 and (state.frames + 1) / window_s < RATE_TOLERANCE * target:
            if skipped:
                why = "the node is at capacity"
            elif state.discarded:
                why = "frames were discarded during an error backoff"
            else:
                why = f"the camera delivers {arrived / window_s:.1f} fps"
            reasons.append(
                f"processing {state.frames / window_s:.1f} of {target:g} fps "
                f"({skipped + state.discarded} frames skipped): {why}"
            )
        if state.latencies_ms:
            p95_s = _p95(state.latencies_ms) / 1e3
            if p95_s > self.max_latency_s:
                bound = self.max_latency_s
                bound_text = f"{bound:.1f}" if round(bound, 1) == bound else f"{bound:g}"
                reasons.append(f"p95 latency {p95_s:.1f} s over the {bound_text} s bound")
        if reasons:
            return CameraStatus.DEGRADED, "; ".join(reasons)
        return CameraStatus.OK, None

    def _publish_heartbeat(
        self, camera_id: str, state: _CameraState | None, error: str | None
    ) -> None:
        """Publish a camera's heartbeat for the interval since its last one, and start anew.

        ``state`` None: a camera that could not be opened (``error`` says why).
        """
        now = time.monotonic()
        if state is None:
            interval, window, frames, dropped, latencies = self.heartbeat_interval_s, 1.0, 0, 0, []
            status, detail, target = CameraStatus.OFFLINE, error, 1.0
        else:
            with self._handover:
                skipped, arrived, pending = state.skipped, state.arrived, bool(state.pending)
                ended = state.ended
                state.skipped = state.arrived = 0
            interval = max(1e-3, now - state.interval_started)
            frames, dropped, target = state.frames, skipped + state.discarded, state.target_fps
            window = interval
            if ended is not None:  # rate over the time the source delivered, not after it ended
                delivered_s = (frames + dropped) / target if target > 0 else 0.0
                window = min(interval, max(ended - state.interval_started, delivered_s))
            status, detail = self._health(state, window, interval, (skipped, arrived, pending))
            latencies = sorted(state.latencies_ms)
        fps = frames / window if frames and window > 0 else 0.0
        if self.metrics is not None:
            self.metrics.observe_camera(camera_id, fps, dropped)
            self.metrics.observe_sink(self.sink)
        self._publish(
            CameraHeartbeat(
                site_id=self.site_id,
                camera_id=camera_id,
                node_id=self.node_id,
                run_id=self.run_id,
                sent_at=datetime.now(UTC),
                interval_s=float(min(interval, MAX_INTERVAL_S)),
                frames=frames,
                fps=float(min(fps, MAX_FPS)),
                target_fps=float(target),
                latency_ms=float(min(sum(latencies) / len(latencies), MAX_LATENCY_MS))
                if latencies
                else None,
                latency_p95_ms=float(min(_p95(latencies), MAX_LATENCY_MS)) if latencies else None,
                dropped_frames=dropped,
                status=status,
                detail=None
                if detail is None
                else _CONTROL.sub(" ", detail).strip()[:MAX_DETAIL_CHARS],
            )
        )
        if state is not None:
            state.frames, state.discarded, state.latencies_ms = 0, 0, []
            state.interval_started = now


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]
