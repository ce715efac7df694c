"""Hostile input at ingest, against the real broker and TimescaleDB (issue 14).

(a) records of 5 and 10 MB and a frame of 10,000 tracks become dead letters (cut to size, with
their source, size and sha256) and the good messages after them are ingested; (b) an ingest
process SIGKILLed after publishing a batch's dead letters but before committing its offsets,
then restarted, leaves exactly one dead letter per bad record; (c) a message stamped ahead of
ingest's clock is a dead letter whose reason says how to fix it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ingest_cli import ingest_args
from kafka import KafkaConsumer, KafkaProducer
from synthetic import site_messages

from cloud.transport.kafka import (
    DEADLETTER_MAX_VALUE_BYTES,
    DEADLETTER_OFFSET_HEADER,
    DEADLETTER_PARTITION_HEADER,
    DEADLETTER_SHA256_HEADER,
    DEADLETTER_SIZE_HEADER,
    DEADLETTER_TRUNCATED_HEADER,
    ensure_topics,
    topic_name,
)
from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    encode,
    partition_key,
    topic_for,
    topics,
)
from footfall.site import Site, load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MB = 1024 * 1024

# Runs `footfall cloud ingest` with the pipeline patched to SIGKILL its own process right after
# the N-th publish of dead letters, before that batch's offsets are committed: the worst moment.
KILLER = """
import os, signal, sys
import cloud.ingest.pipeline as p
calls = [0]
send = p.IngestPipeline._send_dead_letters
def send_then_die(self, letters):
    send(self, letters)
    calls[0] += 1
    if calls[0] == int(os.environ["KILL_AT_DEAD_LETTER_SEND"]):
        os.kill(os.getpid(), signal.SIGKILL)
p.IngestPipeline._send_dead_letters = send_then_die
from footfall.cli import main
sys.argv = ["footfall", *sys.argv[1:]]
main()
"""


def poison_ingest_args(database_url: str, servers: str, ns: str, *extra: str) -> list[str]:
    return ingest_args(database_url, servers, ns, "--idle-exit-s", "6", *extra)


def run_ingest(
    args: list[str],
    prefix: tuple[str, ...] = ("-m", "footfall.cli"),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *prefix, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )


def produce(servers: str, ns: str, items: list[Message | bytes]) -> None:
    """Messages to their topics; raw bytes to the observations topic as camera pets-view1's."""
    producer = KafkaProducer(
        bootstrap_servers=servers,
        linger_ms=20,
        max_request_size=32 * MB,
    )
    for item in items:
        if isinstance(item, bytes):
            topic, key, value = topics.OBSERVATIONS_TOPIC, b"demo/pets-view1", item
        else:
            topic, key, value = topic_for(item), partition_key(item), encode(item)
        producer.send(topic_name(topic, ns), key=key, value=value).get(timeout=60)
    producer.flush(timeout=60)
    producer.close()


def dead_letters(servers: str, ns: str) -> list[Any]:
    consumer = KafkaConsumer(
        topic_name(topics.DEADLETTER_TOPIC, ns),
        bootstrap_servers=servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
        max_partition_fetch_bytes=8 * MB,
    )
    try:
        return list(consumer)
    finally:
        consumer.close()


def frame_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM frame").fetchone()
        return int(row[0]) if row else 0


def camera_frames(site: Site, camera: str = "pets-view1") -> list[Message]:
    return [
        m
        for m in site_messages(site, T0, duration_s=30, fps=2, seed=5)
        if isinstance(m, FrameObservations) and m.camera_id == camera
    ]


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(SITE_FILE)


def test_huge_records_are_dead_lettered_and_ingest_goes_on(
    site: Site, make_database: Callable[[], str], bootstrap_servers: str
) -> None:
    ns = f"huge-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=2, namespace=ns)
    frames = camera_frames(site)
    crowded = json.loads(encode(next(f for f in frames if f.tracks)))  # type: ignore[union-attr]
    crowded["tracks"] = crowded["tracks"][:1] * 10_000
    bad = [
        b'{"kind": "frame", "padding": "' + b"x" * (5 * MB) + b'"}',
        json.dumps(crowded).encode(),
        bytes(range(256)) * (10 * MB // 256),
    ]
    produce(bootstrap_servers, ns, [*frames[:20], *bad, *frames[20:]])
    url = make_database()
    done = run_ingest(poison_ingest_args(url, bootstrap_servers, ns))
    assert done.returncode == 0, done.stderr[-3000:]
    assert frame_count(url) == len(frames)  # every good message, before and after the bad ones
    assert "dead_letters=3 dead_letters_unsent=0" in done.stderr

    letters = dead_letters(bootstrap_servers, ns)
    assert len(letters) == 3
    by_size = sorted(letters, key=lambda r: int(dict(r.headers)[DEADLETTER_SIZE_HEADER]))
    for original, letter in zip(sorted(bad, key=len), by_size, strict=True):
        headers = dict(letter.headers)
        assert int(headers[DEADLETTER_SIZE_HEADER]) == len(original)
        assert headers[DEADLETTER_SHA256_HEADER].decode() == hashlib.sha256(original).hexdigest()
        assert headers[DEADLETTER_TRUNCATED_HEADER] == b"value"
        assert letter.value == original[:DEADLETTER_MAX_VALUE_BYTES]
        assert headers[topics.DEADLETTER_TOPIC_HEADER].decode() == topic_name(
            topics.OBSERVATIONS_TOPIC, ns
        )
        assert b"too large" in headers[topics.DEADLETTER_REASON_HEADER]
    # A restart finds nothing left to do and repeats nothing.
    again = run_ingest(poison_ingest_args(url, bootstrap_servers, ns))
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(dead_letters(bootstrap_servers, ns)) == 3


def test_sigkill_between_dead_letters_and_commit_repeats_no_dead_letter(
    site: Site, make_database: Callable[[], str], bootstrap_servers: str
) -> None:
    ns = f"kill-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=2, namespace=ns)
    frames = camera_frames(site)
    items: list[Message | bytes] = []
    for i, frame in enumerate(frames):
        items.append(frame)
        if i % 3 == 0:
            items.append(b"{not json %d" % i)
        if i % 7 == 0:
            items.append(b"x" * (2 * MB + i))  # over the dead-letter producer's 1 MiB limit
    bad = [item for item in items if isinstance(item, bytes)]
    produce(bootstrap_servers, ns, items)
    url = make_database()
    # Small batches; the process kills itself after its third publish of dead letters, with
    # that batch written to the database and its dead letters on the topic, but uncommitted.
    args = poison_ingest_args(url, bootstrap_servers, ns, "--batch-messages", "10")
    killed = run_ingest(
        args, prefix=("-c", KILLER), env={**os.environ, "KILL_AT_DEAD_LETTER_SEND": "3"}
    )
    assert killed.returncode == -9, killed.stderr[-3000:]
    before = dead_letters(bootstrap_servers, ns)
    assert 0 < len(before) < len(bad)

    restarted = run_ingest(args)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert frame_count(url) == len(frames)
    letters = dead_letters(bootstrap_servers, ns)
    sources = [
        (
            int(dict(r.headers)[DEADLETTER_PARTITION_HEADER]),
            int(dict(r.headers)[DEADLETTER_OFFSET_HEADER]),
        )
        for r in letters
    ]
    assert len(sources) == len(set(sources)) == len(bad)  # exactly one per bad record
    assert "dead_letters_resent=0" not in restarted.stderr  # it did meet letters sent before


def test_future_dated_messages_are_dead_lettered(
    site: Site, make_database: Callable[[], str], bootstrap_servers: str
) -> None:
    ns = f"future-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=2, namespace=ns)
    frames = camera_frames(site)
    now = datetime.now(UTC)
    ahead = frames[0].model_copy(update={"captured_at": now + timedelta(hours=1)})
    soon = frames[1].model_copy(update={"captured_at": now + timedelta(seconds=30)})
    far = CameraHeartbeat(
        site_id="demo",
        camera_id="pets-view1",
        node_id="n1",
        run_id="ab" * 8,
        sent_at=datetime(2099, 6, 1, tzinfo=UTC),
        interval_s=60.0,
        frames=300,
        fps=5.0,
        target_fps=5.0,
        dropped_frames=0,
        status="ok",
    )
    produce(bootstrap_servers, ns, [ahead, soon, far, *frames[2:]])
    url = make_database()
    done = run_ingest(poison_ingest_args(url, bootstrap_servers, ns, "--max-future-skew-s", "600"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert frame_count(url) == len(frames) - 1  # the one 30 s ahead is within the skew
    letters = dead_letters(bootstrap_servers, ns)
    reasons = sorted(dict(r.headers)[topics.DEADLETTER_REASON_HEADER].decode() for r in letters)
    assert len(reasons) == 2
    assert reasons[0].startswith("frame.captured_at: ")
    assert reasons[1].startswith("heartbeat.sent_at: 2099-06-01T00:00:00Z is ")
    for reason in reasons:
        assert "ahead of ingest's clock" in reason and "600 s allowed" in reason
        assert "NTP" in reason
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM heartbeat").fetchone()
        assert row is not None and row[0] == 0
