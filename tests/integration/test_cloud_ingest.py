"""Exactly-once ingest against the real broker and TimescaleDB.

(a) the same stream delivered twice, and an ingest process killed with SIGKILL mid-stream and
restarted (as two processes sharing the partitions), give exactly the tables of one clean pass;
(c) 1,000 malformed messages land in the dead-letter topic (those of a camera without a config
are held instead) and ingest keeps going.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from ingest_cli import ingest_args
from kafka import KafkaConsumer, KafkaProducer
from synthetic import site_messages

from cloud.transport.kafka import ensure_topics, topic_name
from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    encode,
    new_run_id,
    partition_key,
    topic_for,
    topics,
)
from footfall.site import Site, load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TABLES = {
    "frame": "site_id, camera_id, captured_at, run_id, frame_index, track_count",
    "observation": "site_id, camera_id, captured_at, track_id, x_m, y_m, x1, confidence",
    "heartbeat": "site_id, camera_id, sent_at, fps, status",
    "track": "site_id, camera_id, track_id, first_at, last_at, dirty",
    "line_crossing": "site_id, line_id, camera_id, track_id, at, direction",
    "zone_visit": "site_id, zone_id, camera_id, track_id, enter_at, exit_at, dwell_s",
    "footfall_minute": "site_id, line_id, minute, ins, outs",
    "occupancy_minute": "site_id, zone_id, minute, occupancy",
    "heatmap_minute": "site_id, floor_id, minute, cell_x, cell_y, samples",
    "tracklet_start": "site_id, camera_id, run_id, track_id, started_at, node_id",
    "tracklet_end": "site_id, camera_id, run_id, track_id, started_at, ended_at, frame_count, "
    "quality, embedding_model",
    "embedding": "site_id, camera_id, run_id, track_id, kind, at, embedding_model, quality, vector",
}


def _tracklets(frames: list[Message]) -> list[Message]:
    """Tracklet start and end (with embeddings) for every track seen in ``frames``."""
    seen: dict[tuple[str, str, str], list[tuple[datetime, str, str]]] = {}
    for m in frames:
        if isinstance(m, FrameObservations):
            for t in m.tracks:
                seen.setdefault((m.camera_id, m.run_id, t.track_id), []).append(
                    (m.captured_at, m.site_id, m.node_id)
                )
    out: list[Message] = []
    for i, ((camera_id, run_id, track_id), times) in enumerate(sorted(seen.items())):
        (first, site_id, node_id), (last, _, _) = times[0], times[-1]
        vector = [0.0] * 64
        vector[i % 64] = 1.0  # unit length, distinct per track
        common = {
            "site_id": site_id,
            "camera_id": camera_id,
            "node_id": node_id,
            "run_id": run_id,
            "track_id": track_id,
            "started_at": first,
        }
        out.append(TrackletStarted(**common, embedding=vector, embedding_model="test", quality=0.5))
        out.append(
            TrackletEnded(
                **common,
                ended_at=last,
                frame_count=len(times),
                embedding=vector,
                embedding_model="test",
                quality=0.9,
            )
        )
    return out


def stream(site: Site) -> list[Message]:
    out: list[Message] = list(site_messages(site, T0, duration_s=240, fps=5, seed=3))
    out += _tracklets(out)
    run_id = new_run_id()
    for camera in site.cameras:
        for i in range(1, 5):
            out.append(
                CameraHeartbeat(
                    site_id=site.id,
                    camera_id=camera.id,
                    node_id="synthetic",
                    run_id=run_id,
                    sent_at=T0 + timedelta(seconds=60 * i),
                    interval_s=60.0,
                    frames=300,
                    fps=5.0,
                    target_fps=5.0,
                    dropped_frames=0,
                    status="ok",
                )
            )
    return out


def produce(servers: str, ns: str, messages: list[Message], raw: list[bytes] = ()) -> None:  # type: ignore[assignment]
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=20, batch_size=256 * 1024)
    for msg in messages:
        producer.send(topic_name(topic_for(msg), ns), key=partition_key(msg), value=encode(msg))
    for value in raw:
        producer.send(topic_name(topics.OBSERVATIONS_TOPIC, ns), key=b"demo/x", value=value)
    producer.flush(timeout=60)
    producer.close()


def ingest_cmd(database_url: str, servers: str, ns: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "footfall.cli", *ingest_args(database_url, servers, ns, *extra)]


def _reap(procs: list[subprocess.Popen[bytes]]) -> None:
    """Never leave an ingest process behind (it would hold the pipes)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run_to_idle(database_url: str, servers: str, ns: str, processes: int = 1) -> None:
    cmd = ingest_cmd(database_url, servers, ns, "--idle-exit-s", "8")
    procs = [subprocess.Popen(cmd, cwd=REPO) for _ in range(processes)]
    try:
        for proc in procs:
            assert proc.wait(timeout=180) == 0
    finally:
        _reap(procs)


def run_until_complete(
    database_url: str,
    servers: str,
    ns: str,
    expected: dict[str, list[tuple[object, ...]]],
    processes: int,
    timeout_s: float = 240,
) -> None:
    """Ingest processes that run until every raw table holds the stream; then SIGTERM."""
    cmd = ingest_cmd(database_url, servers, ns)
    procs = [subprocess.Popen(cmd, cwd=REPO) for _ in range(processes)]
    raw = ("frame", "tracklet_start", "tracklet_end", "heartbeat")
    want = {table: len(expected[table]) for table in raw}
    deadline = time.monotonic() + timeout_s
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                have = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in raw}
                if {t: int(row[0]) if row else 0 for t, row in have.items()} == want:
                    break
                time.sleep(0.5)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        _reap(procs)


def snapshot(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
            for table, cols in TABLES.items()
        }


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(SITE_FILE)


@pytest.fixture()
def clean_pass(
    site: Site, make_database: Callable[[], str], bootstrap_servers: str
) -> dict[str, list[tuple[object, ...]]]:
    ns = f"clean-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=4, namespace=ns)
    produce(bootstrap_servers, ns, stream(site))
    url = make_database()
    run_to_idle(url, bootstrap_servers, ns)
    snap = snapshot(url)
    assert len(snap["frame"]) == 3 * 240 * 5
    assert snap["line_crossing"] and snap["zone_visit"] and snap["footfall_minute"]
    assert len(snap["heartbeat"]) == 12
    tracks = len(snap["tracklet_start"])
    assert tracks > 0 and len(snap["tracklet_end"]) == tracks
    assert len(snap["embedding"]) == 2 * tracks  # one at the start, one at the end
    return snap


def test_duplicate_delivery_gives_one_clean_pass(
    site: Site,
    clean_pass: dict[str, list[tuple[object, ...]]],
    make_database: Callable[[], str],
    bootstrap_servers: str,
) -> None:
    ns = f"dup-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=4, namespace=ns)
    messages = stream(site)
    produce(bootstrap_servers, ns, messages)
    produce(bootstrap_servers, ns, messages)
    url = make_database()
    run_to_idle(url, bootstrap_servers, ns)
    assert snapshot(url) == clean_pass


def test_sigkill_mid_batch_and_restart_give_one_clean_pass(
    site: Site,
    clean_pass: dict[str, list[tuple[object, ...]]],
    make_database: Callable[[], str],
    bootstrap_servers: str,
) -> None:
    messages = stream(site)
    # An ingest process killed with SIGKILL mid-stream, restarted as two processes.
    ns = f"kill-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=4, namespace=ns)
    produce(bootstrap_servers, ns, messages)
    url = make_database()
    proc = subprocess.Popen(
        ingest_cmd(url, bootstrap_servers, ns, "--batch-messages", "100"), cwd=REPO
    )
    deadline = time.monotonic() + 120
    written = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline and written == 0:
            time.sleep(0.05)
            exists = conn.execute("SELECT to_regclass('frame') IS NOT NULL").fetchone()
            if exists and exists[0]:
                row = conn.execute("SELECT count(*) FROM frame").fetchone()
                written = int(row[0]) if row else 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert written > 0  # killed after its first batches were committed, mid-stream
    # Restarted as two processes sharing the partitions; they run (as a service does) until
    # the database holds the whole stream, then SIGTERM drains and commits.
    run_until_complete(url, bootstrap_servers, ns, clean_pass, processes=2)
    assert snapshot(url) == clean_pass


def test_malformed_messages_go_to_dead_letters_and_ingest_continues(
    site: Site,
    clean_pass: dict[str, list[tuple[object, ...]]],
    make_database: Callable[[], str],
    bootstrap_servers: str,
) -> None:
    ns = f"bad-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=4, namespace=ns)
    good = json.loads(encode(stream(site)[0]))
    bad: list[bytes] = []
    for i in range(1000):
        kind = i % 5
        if kind == 0:
            bad.append(b"{not json " + str(i).encode())
        elif kind == 1:
            bad.append(json.dumps({**good, "kind": "selfie"}).encode())
        elif kind == 2:
            bad.append(json.dumps({**good, "camera_id": "nowhere", "frame_index": i}).encode())
        elif kind == 3:
            bad.append(json.dumps({**good, "captured_at": "2026-11-20T09:00:00"}).encode())
        else:
            bad.append(json.dumps({**good, "image_width": -i}).encode())
    messages = stream(site)
    half = len(messages) // 2
    produce(bootstrap_servers, ns, messages[:half], bad[:500])
    produce(bootstrap_servers, ns, messages[half:], bad[500:])
    url = make_database()
    run_to_idle(url, bootstrap_servers, ns)
    assert snapshot(url) == clean_pass
    # A camera without a config is held (ingested once the site config has it), not dead.
    held = [b for i, b in enumerate(bad) if i % 5 == 2]
    dead = [b for i, b in enumerate(bad) if i % 5 != 2]
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT value, camera_id FROM held_record").fetchall()
    assert sorted(bytes(v) for v, _ in stored) == sorted(held)
    assert {c for _, c in stored} == {"nowhere"}

    consumer = KafkaConsumer(
        topic_name(topics.DEADLETTER_TOPIC, ns),
        bootstrap_servers=bootstrap_servers,
        group_id=f"dlq-{ns}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=8000,
        session_timeout_ms=6000,
    )
    letters = []
    try:
        for record in consumer:
            letters.append(record)
            if len(letters) == len(dead):
                break
    finally:
        consumer.close()
    assert sorted(r.value for r in letters) == sorted(dead)
    reasons = {dict(r.headers)[topics.DEADLETTER_REASON_HEADER].decode() for r in letters}
    assert any("not valid JSON" in r for r in reasons)
    assert any("unknown message kind 'selfie'" in r for r in reasons)
    assert any("naive timestamp" in r for r in reasons)
    assert all(
        dict(r.headers)[topics.DEADLETTER_TOPIC_HEADER].decode()
        == topic_name(topics.OBSERVATIONS_TOPIC, ns)
        for r in letters
    )
