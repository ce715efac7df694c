"""Valid example messages for the wire-contract tests."""

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from footfall.contract import (
    CameraHeartbeat,
    CameraStatus,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
    encode,
)

RUN_ID = "0123456789abcdef0123456789abcdef"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def unit_vector(dims: int, seed: int = 1) -> list[float]:
    """A deterministic L2-normalised vector."""
    raw = [math.sin(seed * (i + 1) * 0.7) + 0.01 for i in range(dims)]
    norm = math.sqrt(sum(v * v for v in raw))
    return [v / norm for v in raw]


def make_frame(**overrides: Any) -> FrameObservations:
    fields: dict[str, Any] = {
        "site_id": "mall-1",
        "camera_id": "cam_01",
        "node_id": "edge-a",
        "run_id": RUN_ID,
        "frame_index": 42,
        "captured_at": T0,
        "image_width": 1920,
        "image_height": 1080,
        "tracks": [
            TrackObservation(
                track_id="a1b2c3d4e5f60718",
                box=(100.5, 200.0, 180.25, 420.0),
                confidence=0.87,
                floor_id="ground",
                floor_xy=(12.5, -3.25),
            ),
            TrackObservation(track_id="deadbeef", box=(0, 0, 1920, 1080), confidence=1.0),
        ],
    }
    fields.update(overrides)
    return FrameObservations(**fields)


def make_tracklet_start(**overrides: Any) -> TrackletStarted:
    fields: dict[str, Any] = {
        "site_id": "mall-1",
        "camera_id": "cam_01",
        "node_id": "edge-a",
        "run_id": RUN_ID,
        "track_id": "a1b2c3d4e5f60718",
        "started_at": T0,
    }
    fields.update(overrides)
    return TrackletStarted(**fields)


def make_tracklet_end(**overrides: Any) -> TrackletEnded:
    fields: dict[str, Any] = {
        "site_id": "mall-1",
        "camera_id": "cam_01",
        "node_id": "edge-a",
        "run_id": RUN_ID,
        "track_id": "a1b2c3d4e5f60718",
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=7.5),
        "frame_count": 75,
        "embedding": unit_vector(512),
        "embedding_model": "osnet_x0_25_msmt17",
        "quality": 0.66,
    }
    fields.update(overrides)
    return TrackletEnded(**fields)


def make_heartbeat(**overrides: Any) -> CameraHeartbeat:
    fields: dict[str, Any] = {
        "site_id": "mall-1",
        "camera_id": "cam_01",
        "node_id": "edge-a",
        "run_id": RUN_ID,
        "sent_at": T0,
        "interval_s": 10.0,
        "frames": 98,
        "fps": 9.8,
        "target_fps": 10.0,
        "latency_ms": 84.2,
        "latency_p95_ms": 131.0,
        "dropped_frames": 2,
        "status": CameraStatus.OK,
    }
    fields.update(overrides)
    return CameraHeartbeat(**fields)


def all_examples() -> list[Message]:
    """At least one valid message of every kind, with optional fields set and unset."""
    return [
        make_frame(),
        make_frame(tracks=[]),
        make_tracklet_start(),
        make_tracklet_start(
            embedding=unit_vector(128, seed=3), embedding_model="mobilenetv2+hsv3", quality=0.4
        ),
        make_tracklet_end(),
        make_tracklet_end(embedding=unit_vector(2048, seed=5), ended_at=T0),
        make_heartbeat(),
        make_heartbeat(
            frames=0,
            fps=0.0,
            latency_ms=None,
            latency_p95_ms=None,
            status=CameraStatus.OFFLINE,
            detail="RTSP stream lost: connection refused by 10.0.0.12",
        ),
    ]


@pytest.fixture(name="all_messages")
def _all_messages() -> list[Message]:
    return all_examples()


@pytest.fixture(params=all_examples(), ids=lambda m: f"{m.kind}")
def example(request: pytest.FixtureRequest) -> Message:
    message: Message = request.param
    return message


# Factories as fixtures, so that test modules need not import this conftest.
MakeFrame = Callable[..., FrameObservations]
MakeTrackletStart = Callable[..., TrackletStarted]
MakeTrackletEnd = Callable[..., TrackletEnded]
MakeHeartbeat = Callable[..., CameraHeartbeat]


@pytest.fixture(name="make_frame")
def _make_frame() -> MakeFrame:
    return make_frame


@pytest.fixture(name="make_tracklet_start")
def _make_tracklet_start() -> MakeTrackletStart:
    return make_tracklet_start


@pytest.fixture(name="make_tracklet_end")
def _make_tracklet_end() -> MakeTrackletEnd:
    return make_tracklet_end


@pytest.fixture(name="make_heartbeat")
def _make_heartbeat() -> MakeHeartbeat:
    return make_heartbeat


@pytest.fixture(name="unit_vector")
def _unit_vector() -> Callable[..., list[float]]:
    return unit_vector


@pytest.fixture(name="wire")
def _wire() -> dict[str, dict[str, Any]]:
    """One valid message of every kind as a decoded JSON object, ready to be broken."""
    return {
        "frame": json.loads(encode(make_frame())),
        "tracklet_start": json.loads(
            encode(
                make_tracklet_start(
                    embedding=unit_vector(128), embedding_model="osnet_x0_25_msmt17", quality=0.5
                )
            )
        ),
        "tracklet_end": json.loads(encode(make_tracklet_end())),
        "heartbeat": json.loads(encode(make_heartbeat())),
    }
