"""The edge node keeps going and says how each camera does: a camera whose processing raises is
isolated and retried with backoff, a paced camera the node cannot keep up with is skipped evenly
with bounded latency and reported degraded, and an empty camera goes through the real models.

Real ``Engine`` and BoT-SORT pipelines; the detector (and, for tracklets, the embedder) of the
first two tests are small test doubles so that timing and failures are controlled.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from edge.config import DetectorConfig, EdgeConfig, ReidConfig
from edge.detection import Detections
from edge.detection_backends import build_detector
from edge.frames import Frame, FrameSource
from edge.metrics import NodeMetrics
from edge.node import EdgeNode
from edge.pipeline import Engine, Identity, camera_pipeline
from edge.reid import Embedder, build_embedder, l2_normalise
from edge.sink import MemorySink
from footfall.contract import (
    CameraHeartbeat,
    CameraStatus,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    decode,
    encode,
    new_run_id,
)

IDENTITY = Identity("test-site", "node-t", new_run_id())
BAD_PIXEL = 7
"""Images whose first pixel has this value make ``PixelDetector`` raise."""


class SyntheticSource:
    """``count`` grey frames (value per frame index), handed out in real time at ``fps``
    (stamped with the wall clock) or as fast as they are taken (stamped index / fps)."""

    def __init__(
        self,
        camera_id: str,
        fps: float,
        count: int,
        *,
        value: Callable[[int], int] = lambda i: 100,
        realtime: bool = True,
        shape: tuple[int, int] = (240, 320),
    ) -> None:
        self.camera_id, self.fps, self.count = camera_id, fps, count
        self.value, self.realtime, self.shape = value, realtime, shape

    def __iter__(self) -> Iterator[Frame]:
        t0, start = time.monotonic(), datetime.now(UTC)
        for i in range(self.count):
            if self.realtime:
                time.sleep(max(0.0, t0 + i / self.fps - time.monotonic()))
                captured_at = datetime.now(UTC)
            else:
                captured_at = start + timedelta(seconds=i / self.fps)
            image = np.full((*self.shape, 3), self.value(i), np.uint8)
            yield Frame(self.camera_id, i, captured_at, image)

    def close(self) -> None:
        return None


class PixelDetector:
    """Test double of a ``Detector``: one person standing still in every image; raises for an
    image whose first pixel is ``BAD_PIXEL``; takes ``delay_s`` per call."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        time.sleep(self.delay_s)
        for image in images:
            if int(image[0, 0, 0]) == BAD_PIXEL:
                raise ValueError(f"sensor glitch (pixel {BAD_PIXEL})")
        box = np.array([[120, 30, 180, 200]], np.float32)
        return [Detections(box, np.array([0.9], np.float32)) for _ in images]


class ConstantEmbedder:
    """Test double of an ``Embedder``: the same 64-d unit vector for every crop."""

    model_name = "test_constant"

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        return l2_normalise(np.ones((len(crops), 64), np.float32))


class TimedSink(MemorySink):
    """MemorySink that also notes when each message was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published_at: list[datetime] = []

    def publish(self, message: Message) -> None:
        super().publish(message)
        self.published_at.append(datetime.now(UTC))


def _node(
    sources: dict[str, tuple[FrameSource, bool]],
    sink: MemorySink,
    detector: object,
    embedder: Embedder | None = None,
    config: EdgeConfig | None = None,
    **options: object,
) -> EdgeNode:
    config = config or EdgeConfig()
    pipelines = {
        cid: camera_pipeline(config, cid, src.fps, embedder=embedder, identity=IDENTITY)
        for cid, (src, _) in sources.items()
    }
    engine = Engine(detector, embedder, pipelines)  # type: ignore[arg-type]
    return EdgeNode(
        IDENTITY.site_id, IDENTITY.node_id, IDENTITY.run_id, engine, sources, sink, **options
    )  # type: ignore[arg-type]


def _of(sink: MemorySink, kind: type, camera_id: str) -> list:  # type: ignore[type-arg]
    return [m for m in sink.messages if isinstance(m, kind) and m.camera_id == camera_id]


def test_a_camera_whose_processing_raises_is_isolated_and_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 20 fps for 3 s; the flaky camera's frames 10-29 (0.5 s to 1.5 s) make the detector raise.
    good = SyntheticSource("good", 20, 60)
    flaky = SyntheticSource("flaky", 20, 60, value=lambda i: BAD_PIXEL if 10 <= i < 30 else 100)
    sink = MemorySink()
    metrics = NodeMetrics()
    node = _node(
        {"good": (good, False), "flaky": (flaky, True)},  # good waits: none of its frames is lost
        sink,
        PixelDetector(),
        ConstantEmbedder(),
        heartbeat_interval_s=0.5,
        error_backoff_s=0.2,
        max_error_backoff_s=0.4,
        metrics=metrics,
    )
    caplog.set_level(logging.ERROR, logger="edge.node")
    processed = node.run(threading.Event())  # returns normally
    for message in sink.messages:
        assert decode(encode(message)) == message  # valid on the wire, error heartbeats too

    good_frames = _of(sink, FrameObservations, "good")
    assert [m.frame_index for m in good_frames] == list(range(60))
    assert all(len(m.tracks) == 1 for m in good_frames[1:])
    assert all(b.status != CameraStatus.ERROR for b in _of(sink, CameraHeartbeat, "good"))

    failures = [r for r in caplog.records if r.name == "edge.node" and "flaky" in r.getMessage()]
    assert failures and all("ValueError: sensor glitch" in r.getMessage() for r in failures)
    # Backoff honoured: 0.2 s, then 0.4 s (the cap) between tries, so 1 s of bad frames fails
    # only a few times, not once per frame.
    gaps = [b.created - a.created for a, b in itertools.pairwise(failures)]
    assert 2 <= len(failures) <= 6
    assert gaps and gaps[0] >= 0.19 and all(g >= 0.39 for g in gaps[1:])

    beats = _of(sink, CameraHeartbeat, "flaky")
    errors = [b for b in beats if b.status == CameraStatus.ERROR]
    assert len(errors) >= len(failures)  # one at each failure, and while it waits
    assert all("ValueError: sensor glitch (pixel 7)" in (b.detail or "") for b in errors)
    assert beats[-1].status != CameraStatus.ERROR  # recovered

    flaky_frames = [m.frame_index for m in _of(sink, FrameObservations, "flaky")]
    assert not any(10 <= i < 30 for i in flaky_frames)
    assert 0 in flaky_frames and max(flaky_frames) == 59 and len(flaky_frames) >= 25
    # Every frame is accounted for: processed, failed, or dropped (skipped / discarded).
    dropped = sum(b.dropped_frames for b in beats)
    assert len(flaky_frames) + len(failures) + dropped == 60
    # The Prometheus counter is the sum of the drops over the run (discarded during backoff).
    assert dropped > 0
    value = metrics.registry.get_sample_value
    assert value("footfall_edge_dropped_frames_total", {"camera": "flaky"}) == dropped
    assert value("footfall_edge_dropped_frames_total", {"camera": "good"}) is None
    assert sum(b.frames for b in beats) == len(flaky_frames)
    assert processed == 60 + len(flaky_frames)

    # The failure ended the open tracklet before the error heartbeat; a new one started after.
    first_error = sink.messages.index(errors[0])
    ended = _of(sink, TrackletEnded, "flaky")
    started_ids = [m.track_id for m in _of(sink, TrackletStarted, "flaky")]
    assert ended and sink.messages.index(ended[0]) < first_error
    assert len(started_ids) >= 2 and ended[0].track_id == started_ids[0]


def test_a_paced_camera_the_node_cannot_keep_up_with_is_skipped_evenly_and_degraded() -> None:
    # 25 fps for 2.4 s; each detector call takes 0.1 s, so the node manages about 10 fps.
    source = SyntheticSource("busy", 25, 60)
    sink = TimedSink()
    metrics = NodeMetrics()
    node = _node(
        {"busy": (source, True)},
        sink,
        PixelDetector(delay_s=0.1),
        heartbeat_interval_s=1.0,
        metrics=metrics,
    )
    processed = node.run(threading.Event())

    frames = [
        (m, at)
        for m, at in zip(sink.messages, sink.published_at, strict=True)
        if isinstance(m, FrameObservations)
    ]
    indices = [m.frame_index for m, _ in frames]
    beats = _of(sink, CameraHeartbeat, "busy")
    skipped = sum(b.dropped_frames for b in beats)
    assert processed == len(frames) and len(frames) + skipped == 60
    assert 10 <= len(frames) <= 40 and skipped >= 15
    assert indices == sorted(indices) and indices[-1] == 59  # the newest frame, always
    gaps = np.diff(indices)
    assert gaps.max() <= 6  # even skipping: never a long run of lost frames
    latencies = [(at - m.captured_at).total_seconds() for m, at in frames]
    assert max(latencies) < 1.0  # bounded: no queue builds up

    degraded = [b for b in beats if b.status == CameraStatus.DEGRADED]
    assert degraded, [(b.status, b.detail) for b in beats]
    detail = degraded[0].detail or ""
    match = re.fullmatch(
        r"processing (\d+\.\d) of 25 fps \((\d+) frames skipped\): the node is at capacity", detail
    )
    assert match, detail
    assert float(match.group(1)) < 0.9 * 25 and int(match.group(2)) > 0
    assert all(b.latency_p95_ms is not None and b.latency_p95_ms < 1000 for b in beats[:-1])

    value = metrics.registry.get_sample_value
    assert value("footfall_edge_latency_seconds_count", {"camera": "busy"}) == len(frames)
    assert value("footfall_edge_latency_seconds_bucket", {"camera": "busy", "le": "1.0"}) == len(
        frames
    )
    assert value("footfall_edge_dropped_frames_total", {"camera": "busy"}) == skipped


def test_a_fast_replay_waits_for_the_node_and_is_ok_whatever_its_rate() -> None:
    source = SyntheticSource("replay", 25, 8, realtime=False)
    sink = MemorySink()
    node = _node({"replay": (source, False)}, sink, PixelDetector(delay_s=0.05))
    assert node.run(threading.Event()) == 8
    assert [m.frame_index for m in _of(sink, FrameObservations, "replay")] == list(range(8))
    (beat,) = _of(sink, CameraHeartbeat, "replay")
    assert beat.status == CameraStatus.OK and beat.dropped_frames == 0 and beat.frames == 8


def test_an_empty_camera_goes_through_the_real_detector_and_reid() -> None:
    # The packaged YOLOv8n as it is (torch, fp32): nothing to export or calibrate first.
    config = EdgeConfig(
        detector=DetectorConfig(image_size=320, backend="torch", precision="fp32"),
        reid=ReidConfig(backend="mobilenet_hist"),
    )
    embedder = build_embedder(config.reid)
    assert embedder is not None
    source = SyntheticSource("empty", 10, 3, value=lambda i: 0, realtime=False)
    sink = MemorySink()
    node = _node(
        {"empty": (source, False)}, sink, build_detector(config.detector), embedder, config
    )
    assert node.run(threading.Event()) == 3
    frames = _of(sink, FrameObservations, "empty")
    assert [m.frame_index for m in frames] == [0, 1, 2]
    assert all(m.tracks == () for m in frames)
    beats = _of(sink, CameraHeartbeat, "empty")
    assert beats and all(b.status == CameraStatus.OK and b.detail is None for b in beats)


def test_a_camera_whose_footage_has_ended_is_offline_not_ok_while_the_others_run() -> None:
    # "short" plays 0.3 s of footage, "long" 2 s; heartbeats every 0.5 s.
    short = SyntheticSource("short", 20, 6)
    long = SyntheticSource("long", 20, 40)
    sink = MemorySink()
    node = _node(
        {"short": (short, True), "long": (long, True)},
        sink,
        PixelDetector(),
        heartbeat_interval_s=0.5,
    )
    node.run(threading.Event())
    beats = _of(sink, CameraHeartbeat, "short")
    assert beats[0].frames > 0 and beats[0].status == CameraStatus.OK
    after = [b for b in beats[1:] if b.frames == 0]
    assert after, [(b.status, b.frames) for b in beats]
    assert all(b.status == CameraStatus.OFFLINE and b.fps == 0 for b in after)
    assert all(b.detail == "the recorded footage has ended: no frames to process" for b in after)
    assert all(b.status == CameraStatus.OK for b in _of(sink, CameraHeartbeat, "long"))
