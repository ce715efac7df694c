"""Ingest never loses a stream because its site has no config yet (issue 19), against the real
broker and TimescaleDB.

`footfall simulate --publish` and a default ingest used to dead-letter every record of the
unconfigured site and commit their offsets. Now: an ingest whose sites folder lacks the site
holds the records (offsets committed, a warning naming the site and the fix); a later ingest
warns about them at start (and reads none of them again from the broker); when the site file is
added to the folder while it runs, it takes them in, once.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from ingest_cli import DEMO_SITE, ingest_args
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from synthetic import site_messages

from cloud.transport.kafka import ensure_topics, topic_name
from footfall.contract import FrameObservations, encode, partition_key, topic_for, topics
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def counts(url: str) -> tuple[int, int, int]:
    """(frames, observations, held records) stored."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM frame), (SELECT count(*) FROM observation), "
            "(SELECT count(*) FROM held_record)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_records_of_a_site_without_config_are_held_then_taken_in_once(
    tmp_path: Path, database_url: str, bootstrap_servers: str
) -> None:
    site = load_site(DEMO_SITE)
    messages = [
        m
        for m in site_messages(site, T0, duration_s=40, fps=5, seed=9)
        if isinstance(m, FrameObservations)
    ]
    tracks = sum(len(m.tracks) for m in messages)
    assert tracks > 0
    ns = f"held-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=2, namespace=ns)
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=20)
    for m in messages:
        producer.send(topic_name(topic_for(m), ns), key=partition_key(m), value=encode(m))
    producer.flush(timeout=60)
    producer.close()

    folder = tmp_path / "sites"  # another site only: demo has no config yet
    folder.mkdir()
    shutil.copy(REPO / "configs" / "sites" / "two_floor_mall.yaml", folder)
    # small batches: held records are taken in a batch at a time (200 a camera: two each)
    args = ingest_args(
        database_url, bootstrap_servers, ns, "--batch-messages", "128", sites_dir=folder
    )
    cmd = [sys.executable, "-m", "footfall.cli", *args]

    first = subprocess.run(
        [*cmd, "--idle-exit-s", "5"], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert first.returncode == 0, first.stderr
    n = len(messages)
    assert counts(database_url) == (0, 0, n)
    assert f"records={n} " in first.stderr and "dead_letters=0 " in first.stderr
    assert f"held={n} released=0" in first.stderr
    warnings = [line for line in first.stderr.splitlines() if "WARNING" in line]
    assert (
        f"stopping with {n} records held (none lost, none ingested yet) of site 'demo'"
        in (warnings[-1])
    )
    warning = warnings[0]
    assert f"holding {n} records (none lost, none ingested yet) of site 'demo' (no config): " in (
        warning
    )
    assert f"add the site's file to the sites folder {folder} " in warning
    # Their offsets are committed: held in the database, they are not read again.
    reader = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=f"ingest-{ns}", enable_auto_commit=False
    )
    topic = topic_name(topics.OBSERVATIONS_TOPIC, ns)
    assert sum(reader.committed(TopicPartition(topic, p)) or 0 for p in (0, 1)) == n
    reader.close()

    # A running ingest warns about them at start, and takes them in when the file appears.
    second = subprocess.Popen(
        [*cmd, "--sites-rescan-s", "0.5"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read_stderr() -> None:
        assert second.stderr is not None
        for line in second.stderr:
            lines.append(line)

    stderr_reader = threading.Thread(target=read_stderr, daemon=True)
    stderr_reader.start()
    held = f"holding {n} records from earlier runs (none lost, none ingested yet) of site"
    try:
        # the file appears only once ingest has said it holds them (however slow its start)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(held in line for line in lines):
            time.sleep(0.2)
        shutil.copy(DEMO_SITE, folder / "demo.yaml")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and counts(database_url) != (n, tracks, 0):
            time.sleep(0.5)
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=120)
        stderr_reader.join(timeout=30)
        err = "".join(lines)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    assert second.returncode == 0, err
    assert counts(database_url) == (n, tracks, 0)
    assert held in err
    assert f"took in {n} held records of site 'demo' camera " in err
    assert f"released={n} " in err
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM line_crossing").fetchone()
    assert row is not None and int(row[0]) > 0  # derived like any other ingested data
