"""The real local stack: a hypertable in TimescaleDB, and contract messages through the broker."""

from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer

from cloud.transport.kafka import ensure_topics, list_topics
from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
    decode,
    encode,
    new_run_id,
    new_track_id,
    partition_key,
    topic_for,
    topics,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _unit(dims: int, rng: random.Random) -> tuple[float, ...]:
    vec = [rng.gauss(0, 1) for _ in range(dims)]
    norm = math.sqrt(sum(v * v for v in vec))
    return tuple(v / norm for v in vec)


def _messages(cameras: list[str], frames: int, rng: random.Random) -> list[Message]:
    """Frames with tracks, tracklet start/end and heartbeats for a few cameras."""
    run_id = new_run_id()
    out: list[Message] = []
    common = {"site_id": "demo", "node_id": "node-1", "run_id": run_id}
    for camera in cameras:
        track = new_track_id()
        out.append(TrackletStarted(camera_id=camera, track_id=track, started_at=T0, **common))
        for i in range(frames):
            x = 100.0 + (3 * i) % 600
            obs = TrackObservation(
                track_id=track,
                box=(x, 50.0, x + 40.0, 170.0),
                confidence=0.9,
                floor_id="ground",
                floor_xy=(1.0 + 0.1 * i, 2.0),
            )
            out.append(
                FrameObservations(
                    camera_id=camera,
                    frame_index=i,
                    captured_at=T0 + timedelta(milliseconds=100 * i),
                    image_width=768,
                    image_height=576,
                    tracks=(obs,),
                    **common,
                )
            )
        out.append(
            TrackletEnded(
                camera_id=camera,
                track_id=track,
                started_at=T0,
                ended_at=T0 + timedelta(milliseconds=100 * (frames - 1)),
                frame_count=frames,
                embedding=_unit(512, rng),
                embedding_model="osnet_x0_25_msmt17",
                quality=0.8,
                **common,
            )
        )
        out.append(
            CameraHeartbeat(
                camera_id=camera,
                sent_at=T0 + timedelta(seconds=10),
                interval_s=10.0,
                frames=frames,
                fps=10.0,
                target_fps=10.0,
                latency_ms=42.0,
                dropped_frames=0,
                status="ok",
                **common,
            )
        )
    return out


def test_contract_messages_round_trip_through_the_broker(bootstrap_servers: str) -> None:
    ensure_topics(bootstrap_servers, partitions=4)
    assert set(topics.ALL_TOPICS) <= list_topics(bootstrap_servers)
    assert ensure_topics(bootstrap_servers) == []

    cameras = [f"cam-{i:02d}" for i in range(6)]
    sent = _messages(cameras, frames=40, rng=random.Random(7))
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        compression_type="gzip",
        linger_ms=5,
    )
    for msg in sent:
        producer.send(topic_for(msg), key=partition_key(msg), value=encode(msg))
    producer.flush(timeout=30)
    producer.close()

    consumer = KafkaConsumer(
        *topics.ALL_TOPICS[:3],
        bootstrap_servers=bootstrap_servers,
        group_id="roundtrip-test",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=8000,
        session_timeout_ms=6000,
    )
    received: list[Message] = []
    partitions: dict[tuple[str, str], set[int]] = defaultdict(set)
    run_id = sent[0].run_id
    try:
        for record in consumer:
            msg = decode(record.value)
            if msg.run_id != run_id:
                continue  # another test's messages on the session stack's contract topics
            received.append(msg)
            partitions[(record.topic, msg.camera_id)].add(record.partition)
            if len(received) == len(sent):
                break
    finally:
        consumer.close()

    # Everything arrives, unchanged, exactly once.
    assert len(received) == len(sent)
    assert sorted(encode(m) for m in received) == sorted(encode(m) for m in sent)
    # One partition per camera and topic, so each camera's frames keep the producer's order.
    assert all(len(p) == 1 for p in partitions.values())
    for camera in cameras:
        indexes = [
            m.frame_index
            for m in received
            if isinstance(m, FrameObservations) and m.camera_id == camera
        ]
        assert indexes == list(range(40))


def test_hypertable_holds_contract_observations(database_url: str) -> None:
    frames = [
        m
        for m in _messages(["cam-a", "cam-b"], frames=600, rng=random.Random(1))
        if isinstance(m, FrameObservations)
    ]
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            CREATE TABLE observation (
                captured_at timestamptz NOT NULL,
                site_id text NOT NULL,
                camera_id text NOT NULL,
                track_id text NOT NULL,
                x_m double precision,
                y_m double precision,
                PRIMARY KEY (site_id, camera_id, track_id, captured_at)
            )
            """
        )
        conn.execute(
            "SELECT create_hypertable('observation', "
            "by_range('captured_at', INTERVAL '10 seconds'))"
        )
        with conn.cursor().copy(
            "COPY observation (captured_at, site_id, camera_id, track_id, x_m, y_m) FROM STDIN"
        ) as copy:
            for frame in frames:
                for obs in frame.tracks:
                    assert obs.floor_xy is not None
                    copy.write_row(
                        (
                            frame.captured_at,
                            frame.site_id,
                            frame.camera_id,
                            obs.track_id,
                            *obs.floor_xy,
                        )
                    )
        conn.commit()

        hypertables = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
        ).fetchall()
        assert ("observation",) in hypertables
        chunks = conn.execute("SELECT count(*) FROM show_chunks('observation')").fetchone()
        assert chunks is not None and chunks[0] >= 6  # 60 s of data in 10 s chunks
        per_bucket = conn.execute(
            """
            SELECT time_bucket(INTERVAL '30 seconds', captured_at) AS bucket, camera_id, count(*)
            FROM observation GROUP BY bucket, camera_id ORDER BY bucket, camera_id
            """
        ).fetchall()
    assert [(row[1], row[2]) for row in per_bucket] == [
        ("cam-a", 300),
        ("cam-b", 300),
        ("cam-a", 300),
        ("cam-b", 300),
    ]
    assert per_bucket[0][0] == T0


def test_cloud_check_sets_up_a_namespace_topics(database_url: str, bootstrap_servers: str) -> None:
    """`footfall cloud check --topic-namespace NS` creates and lists NS.<topic>, as ingest reads."""
    from click.testing import CliRunner

    from footfall.cli import main

    ns = f"chk{uuid.uuid4().hex[:8]}"
    args = ["cloud", "check", "--database-url", database_url]
    args += ["--bootstrap-servers", bootstrap_servers, "--topic-namespace", ns]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    made = {t for t in list_topics(bootstrap_servers) if t.startswith(f"{ns}.")}
    assert made == {f"{ns}.{t}" for t in topics.ALL_TOPICS}
    assert f"{ns}.{topics.OBSERVATIONS_TOPIC}" in result.output
