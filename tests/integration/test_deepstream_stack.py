"""DeepStream payloads through the real broker, the bridge, ingest and the API.

The same trajectories on the demo site's three cameras go four ways: as footfall contract
messages (what ``footfall edge`` sends), and as DeepStream minimal, full (one message per
object) and protobuf payloads turned into the contract by ``footfall cloud deepstream-bridge``.
Each way has a topic namespace and a database of its own, ingested by ``footfall cloud
ingest``; the API's line counts, zone visits and dwell must be identical. The protobuf bridge is
killed with SIGKILL mid-stream and restarted; bad payloads go to the dead-letter topic.
"""

from __future__ import annotations

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
from deepstream_payloads import encode, image_frames
from fastapi.testclient import TestClient
from ingest_cli import ingest_args
from kafka import KafkaConsumer, KafkaProducer
from synthetic import site_messages

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.transport.kafka import ensure_topics, topic_name
from footfall.contract import (
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
    partition_key,
    topic_for,
    topics,
)
from footfall.contract import (
    encode as encode_message,
)
from footfall.deepstream.config import DEEPSTREAM_TOPIC
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "configs" / "sites" / "demo.yaml"
SITE = load_site(SITE_FILE)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RANGE = "from=2026-11-20T08:00Z&to=2026-11-20T11:00Z"
SCHEMAS = ("minimal", "full", "protobuf")


def trajectories() -> list[FrameObservations]:
    frames = [
        m
        for m in site_messages(SITE, T0, duration_s=240, fps=5, walkers_per_minute=8, seed=7)
        if isinstance(m, FrameObservations)
    ]
    return image_frames(frames, SITE)


def tracklets(frames: list[FrameObservations]) -> list[Message]:
    """What an edge sends besides frames: each track's start and end (no appearance)."""
    seen: dict[tuple[str, str, str], list[datetime]] = {}
    for f in frames:
        for t in f.tracks:
            seen.setdefault((f.camera_id, f.run_id, t.track_id), []).append(f.captured_at)
    out: list[Message] = []
    for (camera_id, run_id, track_id), times in seen.items():
        common = {
            "site_id": SITE.id,
            "camera_id": camera_id,
            "node_id": "synthetic",
            "run_id": run_id,
            "track_id": track_id,
            "started_at": times[0],
        }
        out.append(TrackletStarted(**common))
        out.append(TrackletEnded(**common, ended_at=times[-1], frame_count=len(times)))
    return out


def produce(servers: str, records: list[tuple[str, bytes, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=20, batch_size=256 * 1024)
    for topic, key, value in records:
        producer.send(topic, key=key, value=value)
    producer.flush(timeout=60)
    producer.close()


def deepstream_records(
    frames: list[FrameObservations], schema: str, ns: str
) -> list[tuple[str, bytes, bytes]]:
    """Each camera's payloads, keyed by sensor id as cfg_kafka.txt's partition-key asks."""
    out = []
    for camera in SITE.cameras:
        mine = [f for f in frames if f.camera_id == camera.id]
        for value in encode(mine, schema):
            out.append((topic_name(DEEPSTREAM_TOPIC, ns), camera.id.encode(), value))
    return out


def footfall(*args: str) -> list[str]:
    return [sys.executable, "-m", "footfall.cli", *args]


def bridge_cmd(servers: str, ns: str, state: Path) -> list[str]:
    return footfall(
        "cloud",
        "deepstream-bridge",
        "--bootstrap-servers",
        servers,
        "--site",
        str(SITE_FILE),
        "--topic-namespace",
        ns,
        "--group-id",
        f"bridge-{ns}",
        "--state-file",
        str(state),
        "--idle-exit-s",
        "6",
        # The protobuf stream pauses while its bridge is killed and restarted: wall-clock
        # silence must not end the tracklets open then (a real pause of 2 s would).
        "--track-timeout-s",
        "30",
    )


def wait_all(procs: list[subprocess.Popen[bytes]], timeout_s: float = 240) -> None:
    try:
        for proc in procs:
            assert proc.wait(timeout=timeout_s) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def answers(database_url: str) -> dict[str, object]:
    """What the API says: line counts per hour, zone visits and dwell."""
    with psycopg.connect(database_url) as conn:
        key = create_key(conn, SITE.id, "test")
    app = create_app(ApiSettings(database_url, [SITE]))
    ok = {"X-API-Key": key}
    with TestClient(app) as client:
        lines = client.get(f"/v1/sites/demo/footfall?{RANGE}&bucket=1h", headers=ok)
        dwell = client.get(f"/v1/sites/demo/dwell?{RANGE}", headers=ok)
    assert lines.status_code == 200 and dwell.status_code == 200
    return {"lines": lines.json()["rows"], "dwell": dwell.json()["rows"]}


def rounded(rows: object) -> list[dict[str, object]]:
    assert isinstance(rows, list)
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def dead_letters(servers: str, ns: str) -> list[tuple[str, bytes]]:
    consumer = KafkaConsumer(
        topic_name(topics.DEADLETTER_TOPIC, ns),
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    out = [(dict(r.headers)[topics.DEADLETTER_REASON_HEADER].decode(), r.value) for r in consumer]
    consumer.close()
    return out


@pytest.mark.timeout(600)
def test_deepstream_payloads_give_the_same_counts_visits_and_dwell(
    bootstrap_servers: str, make_database: Callable[[], str], tmp_path: Path
) -> None:
    frames = trajectories()
    assert sum(len(f.tracks) for f in frames) > 1000
    run = uuid.uuid4().hex[:8]
    ways = ("contract", *SCHEMAS)
    ns = {way: f"ds-{way}-{run}" for way in ways}
    databases = {way: make_database() for way in ways}
    for way in ways:
        ensure_topics(bootstrap_servers, namespace=ns[way], extra_topics=[DEEPSTREAM_TOPIC])

    contract = [*frames, *tracklets(frames)]
    produce(
        bootstrap_servers,
        [
            (topic_name(topic_for(m), ns["contract"]), partition_key(m), encode_message(m))
            for m in contract
        ],
    )
    payloads = {s: deepstream_records(frames, s, ns[s]) for s in SCHEMAS}
    bad = [
        (topic_name(DEEPSTREAM_TOPIC, ns["minimal"]), b"x", b"{not json"),
        (
            topic_name(DEEPSTREAM_TOPIC, ns["minimal"]),
            b"cam-9",
            b'{"version": "4.0", "id": "1", "@timestamp": "2026-11-20T09:00:00.000Z", '
            b'"sensorId": "cam-9", "objects": []}',
        ),
    ]
    produce(bootstrap_servers, payloads["minimal"] + bad + payloads["full"])
    half = len(payloads["protobuf"]) // 2
    produce(bootstrap_servers, payloads["protobuf"][:half])

    states = {s: tmp_path / f"{s}.json" for s in SCHEMAS}
    procs = {s: subprocess.Popen(bridge_cmd(bootstrap_servers, ns[s], states[s]), cwd=REPO)
             for s in SCHEMAS}  # fmt: skip
    # Kill the protobuf bridge once it has saved some state, mid-stream; send the rest; restart.
    deadline = time.monotonic() + 120
    while not states["protobuf"].exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert states["protobuf"].exists(), "the protobuf bridge saved no state within 2 minutes"
    procs["protobuf"].send_signal(signal.SIGKILL)
    procs["protobuf"].wait()
    produce(bootstrap_servers, payloads["protobuf"][half:])
    restarted = subprocess.Popen(
        bridge_cmd(bootstrap_servers, ns["protobuf"], states["protobuf"]), cwd=REPO
    )
    wait_all([procs["minimal"], procs["full"], restarted])

    ingests = [
        subprocess.Popen(
            footfall(*ingest_args(databases[w], bootstrap_servers, ns[w], "--idle-exit-s", "8")),
            cwd=REPO,
        )
        for w in ways
    ]
    wait_all(ingests)

    got = {way: answers(databases[way]) for way in ways}
    expected = got["contract"]
    lines, dwell = expected["lines"], expected["dwell"]
    assert isinstance(lines, list) and isinstance(dwell, list)
    assert sum(r["ins"] + r["outs"] for r in lines) > 0, "no line was crossed: a weak test"
    assert sum(r["visits"] for r in dwell) > 0
    for schema in SCHEMAS:
        # Line counts and visits exact; dwell figures to the microsecond (the database sums
        # the same durations in another order).
        assert got[schema]["lines"] == lines, schema
        assert rounded(got[schema]["dwell"]) == rounded(dwell), schema

    with psycopg.connect(databases["full"]) as conn:
        row = conn.execute("SELECT count(*), min(node_id) FROM tracklet_start").fetchone()
    assert row is not None and row[0] > 0 and row[1] == "deepstream"

    reasons = dead_letters(bootstrap_servers, ns["minimal"])
    assert sorted(r for r, _ in reasons) == [
        "DeepStream payload: not JSON (JSONDecodeError: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1))",
        "DeepStream payload: sensor id 'cam-9' is not a camera of the bridge's site configs; "
        "set nvmsgconv's [sensorN] id to the camera id (footfall deepstream config writes it), "
        "or '<site>/<camera>' when two sites share the camera id",
    ]


PETS_DETECTIONS = (
    REPO / ".." / "shared" / "data" / "pets2009_s2l1_multiview" / "det" / "View_001.txt"
)
TABLES = {
    # the derived tables, without the track ids (random on the edge, an HMAC on the bridge)
    "line_crossing": "line_id, camera_id, at, direction",
    "zone_visit": "zone_id, camera_id, enter_at, exit_at, dwell_s",
    "footfall_minute": "line_id, minute, ins, outs",
    "occupancy_minute": "zone_id, minute, occupancy",
    "heatmap_minute": "floor_id, minute, cell_x, cell_y, samples",
}


def replayed_frames(mot: Path) -> list[FrameObservations]:
    """``footfall edge replay`` output (MOTChallenge rows) as the edge's frame messages, boxes
    to whole pixels (what the full schema carries), floor positions from their bottom centre,
    every frame of the replay (empty ones too), time stamped to the millisecond."""
    camera = SITE.camera("pets-view1")
    rows: dict[int, list[tuple[int, tuple[float, float, float, float], float]]] = {}
    for line in mot.read_text().splitlines():
        f, tid, x, y, w, h, conf = line.split(",")[:7]
        box = tuple(float(round(v)) for v in (float(x), float(y), float(x) + float(w)))
        box = (*box[:2], box[2], float(round(float(y) + float(h))))
        rows.setdefault(int(f), []).append((int(tid), box, float(conf)))  # type: ignore[arg-type]
    width, height = camera.resolution
    frames = []
    for index in range(1, max(rows) + 1):
        tracks = []
        for tid, (x1, y1, x2, y2), conf in rows.get(index, []):
            x1, x2 = max(x1, 0.0), min(x2, float(width))
            y1, y2 = max(y1, 0.0), min(y2, float(height))
            if not (x2 > x1 and y2 > y1):
                continue
            fx, fy = camera.project_to_floor([[(x1 + x2) / 2, y2]])[0]
            tracks.append(
                TrackObservation(
                    track_id=f"{tid:016x}",
                    box=(x1, y1, x2, y2),
                    confidence=min(1.0, conf),
                    floor_id=camera.floor,
                    floor_xy=(float(fx), float(fy)),
                )
            )
        frames.append(
            FrameObservations(
                site_id=SITE.id,
                camera_id=camera.id,
                node_id="replay",
                run_id="0" * 31 + "1",
                frame_index=index - 1,
                captured_at=T0 + timedelta(milliseconds=round((index - 1) * 1000 / camera.fps)),
                image_width=width,
                image_height=height,
                tracks=tuple(tracks),
            )
        )
    return frames


def tables(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
            for table, cols in TABLES.items()
        }


@pytest.mark.timeout(600)
@pytest.mark.skipif(not PETS_DETECTIONS.exists(), reason="needs ../shared/data (PETS09 detections)")
def test_an_edge_replay_reencoded_as_deepstream_gives_identical_tables(
    bootstrap_servers: str, make_database: Callable[[], str], tmp_path: Path
) -> None:
    """The edge's tracks of PETS09-S2L1 (``footfall edge replay`` of its detection file) sent
    as the edge's frame messages and as DeepStream full-schema payloads (one message per
    object) derive identical crossings, visits and per-minute tables."""
    mot = tmp_path / "replay.txt"
    replay = footfall(
        "edge", "replay", str(PETS_DETECTIONS), "--camera", "pets-view1", "--site",
        str(SITE_FILE), "--mot-out", str(mot), "--fast", "--max-frames", "400",
    )  # fmt: skip
    assert subprocess.run(replay, cwd=REPO, capture_output=True, timeout=300).returncode == 0
    frames = replayed_frames(mot)
    run = uuid.uuid4().hex[:8]
    ns = {"edge": f"replay-edge-{run}", "full": f"replay-full-{run}"}
    databases = {way: make_database() for way in ns}
    for way in ns:
        ensure_topics(bootstrap_servers, namespace=ns[way], extra_topics=[DEEPSTREAM_TOPIC])
    edge = [*frames, *tracklets(frames)]
    records = [
        (topic_name(topic_for(m), ns["edge"]), partition_key(m), encode_message(m)) for m in edge
    ]
    produce(bootstrap_servers, records + deepstream_records(frames, "full", ns["full"]))
    wait_all([subprocess.Popen(bridge_cmd(bootstrap_servers, ns["full"], tmp_path / "s.json"),
                               cwd=REPO)])  # fmt: skip
    wait_all(
        [
            subprocess.Popen(
                footfall(
                    *ingest_args(databases[w], bootstrap_servers, ns[w], "--idle-exit-s", "8")
                ),
                cwd=REPO,
            )
            for w in ns
        ]
    )
    expected, got = tables(databases["edge"]), tables(databases["full"])
    assert len(expected["line_crossing"]) > 0 and len(expected["zone_visit"]) > 0
    for table in TABLES:
        assert got[table] == expected[table], table
