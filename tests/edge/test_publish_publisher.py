"""The publisher without a broker: spooled records, per-camera order, an unreachable address,
the stop handlers."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.publish import OutgoingRecord, Spool, install_stop_handlers
from edge.publish.kafka import KafkaPublisher, best_compression
from edge.publish.record import pack, unpack
from edge.sink import Sink
from footfall.contract import (
    OBSERVATIONS_TOPIC,
    FrameObservations,
    Message,
    TrackObservation,
    decode,
    new_run_id,
    new_track_id,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _frames(cameras: list[str], count: int) -> list[Message]:
    run_id = new_run_id()
    track = new_track_id()
    out: list[Message] = []
    for i in range(count):
        for camera in cameras:
            out.append(
                FrameObservations(
                    site_id="demo",
                    camera_id=camera,
                    node_id="node-1",
                    run_id=run_id,
                    frame_index=i,
                    captured_at=T0 + timedelta(milliseconds=100 * i),
                    image_width=640,
                    image_height=480,
                    tracks=(
                        TrackObservation(
                            track_id=track, box=(10.0, 10.0, 50.0, 120.0), confidence=0.9
                        ),
                    ),
                )
            )
    return out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_spooled_record_keeps_topic_key_and_value() -> None:
    message = _frames(["cam-a"], 1)[0]
    record = OutgoingRecord.from_message(message)
    assert record.topic == OBSERVATIONS_TOPIC
    assert record.key == b"demo/cam-a"
    assert unpack(pack(record)) == record
    assert decode(unpack(pack(record)).value) == message
    with pytest.raises(ValueError, match="not a spooled record"):
        unpack(b"\x05ab")


def test_interleaved_cameras_keep_their_order_through_the_spool(tmp_path: Path) -> None:
    messages = _frames(["cam-a", "cam-b", "cam-c"], 40)
    spool = Spool(tmp_path, segment_bytes=4096)
    for message in messages:
        spool.append(pack(OutgoingRecord.from_message(message)))
    spool.close()
    again = Spool(tmp_path)  # across a restart too
    out = [decode(unpack(r.payload).value) for r in again.read(10_000, 1 << 30)]
    for camera in ("cam-a", "cam-b", "cam-c"):
        indexes = [
            m.frame_index for m in out if isinstance(m, FrameObservations) and m.camera_id == camera
        ]
        assert indexes == list(range(40))


def test_unreachable_broker_spools_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    caplog.set_level(logging.INFO, logger="edge.publish")
    # Construction does not touch the network, so it cannot fail because the broker is down.
    publisher = KafkaPublisher(
        f"127.0.0.1:{port}", tmp_path / "spool", close_timeout_s=0.5, reconnect_backoff_max_s=0.5
    )
    sink: Sink = publisher
    messages = _frames(["cam-a", "cam-b"], 30)
    for message in messages:
        sink.publish(message)
    sink.flush(2.0)  # cannot deliver: returns after the timeout, nothing lost
    assert publisher.spooled == 60 and publisher.pending == 60 and publisher.sent == 0
    assert publisher.spool_bytes > 0 and publisher.dropped == 0
    assert not publisher.connected
    sink.close()
    with pytest.raises(RuntimeError):
        sink.publish(messages[0])

    unreachable = [r for r in caplog.records if "is unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # one line, not one per reconnect attempt
    assert f"127.0.0.1:{port}" in unreachable[0].getMessage()
    assert any(
        "closed with 60 messages" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )

    # The next process on the same folder finds them, in order.
    left = Spool(tmp_path / "spool")
    out = [decode(unpack(r.payload).value) for r in left.read(1000, 1 << 30)]
    assert out == messages


def test_compression_choice() -> None:
    assert best_compression() in ("zstd", "lz4", "snappy", "gzip")
    with pytest.raises(ValueError, match="unknown compression"):
        KafkaPublisher("127.0.0.1:1", "/nonexistent", compression="brotli")


def test_sigterm_and_ctrl_c_set_the_stop_event() -> None:
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    restore = install_stop_handlers(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2.0)
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C does not wait for the flush
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(1.0)
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_topic_namespace_prefixes_the_spooled_topics(tmp_path: Path) -> None:
    """`footfall edge run --topic-namespace NS` publishes to NS.<topic>, as ingest reads them."""
    from edge.sinks import SinkOptions, build_sink

    message = _frames(["cam-a"], 1)[0]
    assert OutgoingRecord.from_message(message, "t1").topic == f"t1.{OBSERVATIONS_TOPIC}"
    options = SinkOptions("node-1", f"127.0.0.1:{_closed_port()}", tmp_path / "spool", None, "t1")
    publisher = build_sink("kafka", options)
    assert isinstance(publisher, KafkaPublisher)
    publisher.close_timeout_s = 0.2
    publisher.publish(message)
    publisher.close()
    spool = Spool(tmp_path / "spool")
    topics = {unpack(r.payload).topic for r in spool.read(100, 1 << 20)}
    spool.close()
    assert topics == {f"t1.{OBSERVATIONS_TOPIC}"}


def test_a_topic_namespace_kafka_cannot_name_is_one_sentence() -> None:
    from click.testing import CliRunner

    from footfall.cli import main

    result = CliRunner().invoke(
        main, ["edge", "run", "--site", "s.yaml", "--node", "n1", "--topic-namespace", "a b"]
    )
    assert result.exit_code == 1 and "cannot prefix a Kafka topic name" in result.output
