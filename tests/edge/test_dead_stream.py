"""A dead RTSP camera (a closed loopback port: nothing mocked) is reported unreachable at
start, with an ``offline`` heartbeat naming it, and a run bounded by ``max_frames`` ends: the
stream gives up after its attempts, in one sentence (issue 19: it was reported ``ok`` and the
run never finished)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from edge_footage import DEMO_SITE, OSNET_ONNX, SHARED_DATA, needs_osnet, needs_pets

from edge.config import DetectorConfig, EdgeConfig, ReidConfig
from edge.run import run_node
from edge.sink import MemorySink
from edge.sources import BOUNDED_STREAM_ATTEMPTS, open_source
from edge.streams import Backoff, StreamSource, StreamUnreachable
from footfall.contract import CameraHeartbeat, CameraStatus, FrameObservations
from footfall.site import load_site


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_stream_is_unreachable_at_once_and_a_bounded_one_gives_up() -> None:
    uri = f"rtsp://127.0.0.1:{closed_port()}/live"
    stream = StreamSource(
        uri, "cam-dead", max_frames=10, max_attempts=3, backoff=Backoff(0.01, 0.02)
    )
    assert stream.probe() == (
        f"Camera cam-dead: cannot open stream {uri}; retrying with backoff (check the URL, "
        "credentials and that the camera is reachable)."
    )
    assert stream.last_error == stream.probe()  # the first heartbeat says so
    with pytest.raises(StreamUnreachable) as raised:
        list(stream)
    assert str(raised.value) == (
        f"Camera cam-dead: gave up on stream {uri} after 3 failed attempts over 0 s; check "
        "that the camera is reachable, or leave it out (--camera)."
    )
    # a bounded run's streams give up; an unbounded one's retry for ever
    assert isinstance(bounded := open_source(uri, "c", max_frames=5), StreamSource)
    assert bounded.max_attempts == BOUNDED_STREAM_ATTEMPTS
    assert isinstance(endless := open_source(uri, "c"), StreamSource)
    assert endless.max_attempts is None


@needs_pets
@needs_osnet
def test_a_bounded_run_with_a_dead_rtsp_camera_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    uri = f"rtsp://127.0.0.1:{closed_port()}/live"
    text = DEMO_SITE.read_text().replace("../../../shared/data", str(SHARED_DATA))
    text = text.replace(f"{SHARED_DATA}/intel_sample_videos/one-by-one-person-detection.mp4", uri)
    assert uri in text
    site_file = tmp_path / "site.yaml"
    site_file.write_text(text)
    site = load_site(site_file)
    config = EdgeConfig(
        detector=DetectorConfig(image_size=640),
        reid=ReidConfig(backend="osnet_onnx", weights=OSNET_ONNX.resolve()),
    )
    sink = MemorySink()
    lines: list[str] = []
    done: list[int] = []
    run = threading.Thread(
        target=lambda: done.append(
            run_node(
                site,
                "node-a",
                config,
                sink,
                camera_ids=("pets-view1", "intel-entrance"),
                realtime=False,
                max_frames=5,
                log=lines.append,
            )
        ),
        daemon=True,
    )
    began = time.monotonic()
    run.start()
    run.join(timeout=180)
    assert not run.is_alive(), "the run never ended"
    assert done == [5]
    (start,) = [line for line in lines if "intel-entrance" in line and "UNREACHABLE" in line]
    assert f"cannot open stream {uri}" in start and "gives up after 5 attempts" in start
    (end,) = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert end.startswith(f"Camera intel-entrance: gave up on stream {uri} after 5 failed attempts")
    assert time.monotonic() - began > 1 + 2 + 4 + 8  # it did retry before giving up
    beats = [
        m
        for m in sink.messages
        if isinstance(m, CameraHeartbeat) and m.camera_id == "intel-entrance"
    ]
    assert beats[0].status == CameraStatus.OFFLINE and "cannot open stream" in (
        beats[0].detail or ""
    )
    assert beats[-1].status == CameraStatus.OFFLINE and "gave up" in (beats[-1].detail or "")
    frames = [m for m in sink.messages if isinstance(m, FrameObservations)]
    assert {m.camera_id for m in frames} == {"pets-view1"} and len(frames) == 5
