"""The edge node end to end: several cameras batched, contract messages into a sink, one dead
camera reported while the others carry on."""

from __future__ import annotations

from pathlib import Path

import pytest
from edge_footage import DEMO_SITE, OSNET_ONNX, SHARED_DATA, needs_osnet, needs_pets

from edge.config import DetectorConfig, EdgeConfig, ReidConfig
from edge.metrics import NodeMetrics
from edge.run import run_node
from edge.sink import MemorySink
from footfall.contract import (
    CameraHeartbeat,
    CameraStatus,
    FrameObservations,
    TrackletEnded,
    TrackletStarted,
    decode,
    encode,
)
from footfall.site import load_site


def _site_with_a_dead_camera(tmp_path: Path) -> Path:
    text = DEMO_SITE.read_text().replace("../../../shared/data", str(SHARED_DATA))
    text = text.replace("one-by-one-person-detection.mp4", "missing-camera.mp4")
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


@needs_pets
@needs_osnet
def test_two_cameras_publish_frames_tracklets_and_heartbeats(tmp_path: Path) -> None:
    site = load_site(_site_with_a_dead_camera(tmp_path))
    config = EdgeConfig(
        detector=DetectorConfig(image_size=640),
        reid=ReidConfig(backend="osnet_onnx", weights=OSNET_ONNX.resolve()),
    )
    sink = MemorySink()
    lines: list[str] = []
    metrics = NodeMetrics()
    processed = run_node(
        site, "node-a", config, sink, realtime=False, max_frames=12, log=lines.append,
        metrics=metrics,
    )  # fmt: skip
    assert processed == 24
    value = metrics.registry.get_sample_value
    assert value("footfall_edge_frames_total", {"camera": "pets-view1"}) == 12
    assert value("footfall_edge_frames_total", {"camera": "tud-stadtmitte"}) == 12
    assert value("footfall_edge_batch_frames_sum") == 24  # both cameras' frames went through
    batches = value("footfall_edge_inference_seconds_count")
    assert batches is not None and 12 <= batches < 24  # frames of two cameras shared batches
    assert value("footfall_edge_fps", {"camera": "pets-view1"}) is not None  # set at heartbeats
    assert any("intel-entrance" in line and "FAILED" in line for line in lines)
    for message in sink.messages:
        assert decode(encode(message)) == message  # every message is valid on the wire
    frames = [m for m in sink.messages if isinstance(m, FrameObservations)]
    assert {m.camera_id for m in frames} == {"pets-view1", "tud-stadtmitte"}
    assert len(frames) == 24 and len({m.run_id for m in frames}) == 1
    pets = [m for m in frames if m.camera_id == "pets-view1"]
    assert [m.frame_index for m in pets] == list(range(12))
    assert (pets[1].captured_at - pets[0].captured_at).total_seconds() == pytest.approx(1 / 7)
    tracks = [t for m in pets for t in m.tracks]
    assert len(tracks) > 30
    on_floor = [t for t in tracks if t.floor_xy is not None]
    assert len(on_floor) > 0.8 * len(tracks) and all(t.floor_id == "l0" for t in on_floor)
    assert all(0 <= t.floor_xy[0] <= 40 for t in on_floor if t.floor_xy is not None)
    started = {m.track_id for m in sink.messages if isinstance(m, TrackletStarted)}
    ended = [m for m in sink.messages if isinstance(m, TrackletEnded)]
    assert {t.track_id for t in tracks} <= started
    assert {m.track_id for m in ended} == started  # the run's end closes every tracklet
    assert all(m.embedding_model == "osnet_x0_25_msmt17" and len(m.embedding) == 512 for m in ended)
    beats = [m for m in sink.messages if isinstance(m, CameraHeartbeat)]
    dead = [b for b in beats if b.camera_id == "intel-entrance"]
    assert (
        dead
        and dead[0].status == CameraStatus.OFFLINE
        and "missing-camera.mp4" in (dead[0].detail or "")
    )
    alive = [b for b in beats if b.camera_id == "pets-view1"]
    assert alive and alive[-1].status == CameraStatus.OK
    assert sum(b.frames for b in alive) == 12
