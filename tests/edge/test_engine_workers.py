"""Tracking worker processes and decode workers of the engine: delivery and back-pressure."""

from __future__ import annotations

import itertools
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from edge_footage import PETS_VIDEO, needs_pets

from edge.config import EdgeConfig
from edge.engine.decode import DecodeWorker
from edge.engine.workers import TrackingWorkers, TrackRequest
from edge.pipeline import Identity

IDENTITY = Identity("demo-mall", "node-1", "0123456789abcdef")


def _request(camera: str, index: int, embed: bool = False) -> TrackRequest:
    x = 100.0 + 8 * index  # one person walking right
    xyxy = np.array([[x, 200.0, x + 60, 380.0]], np.float32)
    embedding = np.full((1, 128), 128**-0.5, np.float32) if embed else None
    return TrackRequest(
        camera,
        index,
        time.perf_counter(),
        datetime(2026, 12, 3, tzinfo=UTC) + timedelta(seconds=index / 15),
        576,
        768,
        xyxy,
        np.array([0.9], np.float32),
        embedding,
    )


def test_worker_processes_deliver_messages_for_every_camera() -> None:
    cameras = {"cam-a": 15.0, "cam-b": 15.0, "cam-c": 15.0}
    workers = TrackingWorkers(
        EdgeConfig(),
        cameras,
        IDENTITY,
        processes=2,
        queue_depth=64,
        embedding_model="test-embedder",
        return_messages=True,
    )
    for index in range(20):
        for camera in cameras:
            assert workers.submit(_request(camera, index, embed=True))
    published = workers.close(timeout_s=60)
    frames = [p for p in published if p.index >= 0]
    assert {p.camera_id for p in frames} == set(cameras)
    assert len(frames) == 60 and not any(p.error for p in frames)
    assert all(p.published >= p.captured for p in frames)
    kinds: dict[str, set[str]] = {c: set() for c in cameras}
    for p in published:
        for text in p.messages:
            message = json.loads(text)
            assert message["camera_id"] == p.camera_id
            kinds[p.camera_id].add(message["kind"])
    # every camera: its frames' observations, and at close its person's tracklet ends
    assert all({"frame", "tracklet_start", "tracklet_end"} <= k for k in kinds.values()), kinds
    tracked = [p for p in frames if p.camera_id == "cam-a" and p.tracks]
    assert len(tracked) >= 15  # the walking person is tracked once confirmed


def test_a_full_worker_skips_frames_and_counts_them() -> None:
    workers = TrackingWorkers(EdgeConfig(), {"cam-a": 15.0}, IDENTITY, processes=1, queue_depth=2)
    accepted = [workers.submit(_request("cam-a", i)) for i in range(200)]
    workers.close(timeout_s=60)
    assert workers.submitted["cam-a"] == sum(accepted)
    assert workers.skipped["cam-a"] == 200 - sum(accepted) > 0


@needs_pets
def test_decode_worker_keeps_the_newest_frame_and_counts_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        worker = DecodeWorker("cam-a", str(PETS_VIDEO), decoder="nvdec", pace_fps=200).start()
    assert worker.decoder == "opencv"  # no PyNvVideoCodec here: OpenCV, said in one line
    assert sum("PyNvVideoCodec" in r.getMessage() for r in caplog.records) == 1
    time.sleep(0.5)
    first = worker.take()
    time.sleep(0.5)
    second = worker.take()
    worker.stop()
    assert first is not None and second is not None and second.index > first.index
    assert first.image.shape == (576, 768, 3) and not first.rgb
    assert worker.dropped > 0 and worker.taken == 2
    assert worker.decoded == worker.dropped + worker.taken + (worker.take() is not None)


def test_a_paced_camera_catches_up_after_a_short_stall_and_not_after_a_long_one() -> None:
    from edge.engine.decode import Pacer

    pacer, now, sent = Pacer(15.0), 0.0, []
    while now < 10.0:  # 10 s of a 15 fps camera whose reader stalls 0.6 s at 5 s (a reopen)
        now += pacer.delay(now)
        sent.append(now)
        now += 0.6 if len(sent) == 75 else 0.001
    # the frames due during the stall go at once, then on schedule: 15 fps over the 10 s
    assert sum(t < 10.0 - 1e-6 for t in sent) == 150
    assert sent[76] - sent[75] < 0.01 and abs(sent[-1] - sent[-2] - 1 / 15) < 1e-9

    pacer, now, sent = Pacer(15.0, max_lag_s=1.0), 0.0, []
    while now < 10.0:  # a 3 s stall is beyond catching up: a new schedule, no burst
        now += pacer.delay(now)
        sent.append(now)
        now += 3.0 if len(sent) == 30 else 0.001
    assert sum(t < 10.0 - 1e-6 for t in sent) == 30 + 76  # 30 before, 76 from 4.93 s on
    assert min(b - a for a, b in itertools.pairwise(sent)) > 0.06
