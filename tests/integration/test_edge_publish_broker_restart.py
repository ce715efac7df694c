"""The publisher against a real persistent broker (Tansu on SeaweedFS) that dies and comes back.

Must show (issue 4): the broker is stopped in the middle of a replay and started again, and every
frame message arrives exactly once and in order per camera.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from edge.publish.kafka import KafkaPublisher
from footfall.contract import (
    ALL_TOPICS,
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
    decode,
    new_run_id,
    new_track_id,
    topics,
)
from footfall.stack import (
    StackProfile,
    profile_for,
    stack_down,
    stack_up,
    start_broker,
    stop_broker,
)

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]

PARTITIONS = 6
SITE = "demo"
CAMERAS = ("cam-entrance", "cam-atrium", "cam-food")
FPS = 10.0


@pytest.fixture(scope="module")
def persistent_stack() -> Iterator[StackProfile]:
    """A demo-profile stack (broker data in a local S3 store, kept across broker restarts).

    Fresh broker data every time (the S3 folder is removed first); the contract's topics are
    created with a few partitions.
    """
    profile = profile_for(
        "demo",
        root=REPO_ROOT / ".run" / "pytest-publish",
        pg_port=_free_ports(1),
        broker_port=_free_ports(1),
        s3_port=_free_ports(14, extra=(10004,)),
    )
    stack_down(profile)
    shutil.rmtree(profile.run_dir / "s3", ignore_errors=True)
    stack_up(profile, timeout_s=120)
    admin = KafkaAdminClient(bootstrap_servers=profile.bootstrap_servers)
    try:
        for name in ALL_TOPICS:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    finally:
        admin.close()
    yield profile
    stack_down(profile)


def _free_ports(count: int, extra: tuple[int, ...] = ()) -> int:
    """A base port such that base .. base+count-1 and base+each of ``extra`` are free.

    The S3 store (SeaweedFS) uses 14 ports from its base, and base+10004.
    """
    for _ in range(100):
        base = random.randint(20000, 40000)
        socks: list[socket.socket] = []
        try:
            for port in (*range(base, base + count), *(base + e for e in extra)):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError("no free loopback ports")


# --------------------------------------------------------------------------- a replay source


def _unit(dims: int, rng: random.Random) -> tuple[float, ...]:
    vec = [rng.gauss(0, 1) for _ in range(dims)]
    norm = math.sqrt(sum(v * v for v in vec))
    return tuple(v / norm for v in vec)


def synthetic_replay(
    cameras: tuple[str, ...], frames: int, fps: float, run_id: str, seed: int = 1
) -> Iterator[Message]:
    """What an edge replay emits, without video: per frame tick, one frame message per camera
    with its tracks; tracklet start/end as tracks come and go; a heartbeat per camera every 2 s.

    A plain iterator of contract messages, so the real edge replay can take its place.
    """
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    common = {"site_id": SITE, "node_id": "node-1", "run_id": run_id}
    live: dict[str, dict[str, int]] = {camera: {} for camera in cameras}  # track -> first frame
    for index in range(frames):
        at = t0 + timedelta(seconds=index / fps)
        for camera in cameras:
            tracks = live[camera]
            if len(tracks) < 4 and rng.random() < 0.05:
                track = new_track_id()
                tracks[track] = index
                yield TrackletStarted(camera_id=camera, track_id=track, started_at=at, **common)
            observations = []
            for n, track in enumerate(sorted(tracks)):
                x = 40.0 + 150 * n + (index - tracks[track]) % 100
                observations.append(
                    TrackObservation(
                        track_id=track,
                        box=(x, 100.0, x + 40.0, 220.0),
                        confidence=0.8,
                        floor_id="ground",
                        floor_xy=(x / 50, 3.0),
                    )
                )
            yield FrameObservations(
                camera_id=camera,
                frame_index=index,
                captured_at=at,
                image_width=768,
                image_height=576,
                tracks=tuple(observations),
                **common,
            )
            for track, first in list(tracks.items()):
                if index - first > 20 and rng.random() < 0.04:
                    del tracks[track]
                    yield TrackletEnded(
                        camera_id=camera,
                        track_id=track,
                        started_at=t0 + timedelta(seconds=first / fps),
                        ended_at=at,
                        frame_count=index - first + 1,
                        embedding=_unit(128, rng),
                        embedding_model="osnet_x0_25_msmt17",
                        quality=0.7,
                        **common,
                    )
            if index % int(2 * fps) == int(2 * fps) - 1:
                yield CameraHeartbeat(
                    camera_id=camera,
                    sent_at=at,
                    interval_s=2.0,
                    frames=int(2 * fps),
                    fps=fps,
                    target_fps=fps,
                    latency_ms=35.0,
                    dropped_frames=0,
                    status="ok",
                    **common,
                )


def paced(messages: Iterator[Message], fps: float) -> Iterator[Message]:
    """Yield the messages in real time: each frame tick (a camera's frame_index) at 1/fps s."""
    start = time.monotonic()
    for message in messages:
        if isinstance(message, FrameObservations):
            delay = start + message.frame_index / fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield message


# --------------------------------------------------------------------------- reading back


def consume_run(bootstrap_servers: str, run_id: str) -> list[tuple[str, int, Message]]:
    """Every message of ``run_id`` on the contract's topics, from the earliest offset."""
    return consume_matching(
        bootstrap_servers, lambda message: getattr(message, "run_id", None) == run_id
    )


def consume_matching(
    bootstrap_servers: str, keep: Callable[[Message], bool]
) -> list[tuple[str, int, Message]]:
    """Every message that ``keep`` accepts on the contract's topics, from the earliest offset.

    Reads each partition up to the high watermark that the fetch answers report (Tansu's
    ListOffsets end offset is wrong with S3 storage).
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
    )
    out: list[tuple[str, int, Message]] = []
    try:
        tps = [TopicPartition(topic, p) for topic in ALL_TOPICS[:3] for p in range(PARTITIONS)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + 60
        positions: dict[TopicPartition, int] = {}
        moved_at = time.monotonic()
        while True:
            for tp, records in consumer.poll(timeout_ms=200, max_records=10000).items():
                for record in records:
                    message = decode(record.value)
                    if keep(message):
                        out.append((tp.topic, tp.partition, message))
            current = {tp: consumer.position(tp) for tp in tps}
            if current != positions:
                positions, moved_at = current, time.monotonic()
            ends = {tp: consumer.highwater(tp) for tp in tps}
            if all(end is not None and current[tp] >= end for tp, end in ends.items()):
                return out
            # Offsets Tansu counted but never stored (after a crash) read as nothing at the end.
            if time.monotonic() - moved_at > 5 and all(end is not None for end in ends.values()):
                return out
            assert time.monotonic() < deadline, "reading the topics back took over 60 s"
    finally:
        consumer.close()


def _natural_key(message: Message) -> tuple[object, ...]:
    return (message.kind, *message.natural_key())


# --------------------------------------------------------------------------- the tests


def test_broker_killed_mid_replay_every_frame_arrives_once_in_order(
    persistent_stack: StackProfile, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge.publish")
    run_id = new_run_id()
    frames = 240  # 24 s at 10 fps per camera
    kill_at_s, down_s = 8.0, 5.0
    timeline: dict[str, float] = {}

    def outage() -> None:
        time.sleep(kill_at_s)
        stop_broker(persistent_stack, kill=True)
        timeline["killed"] = time.monotonic()
        time.sleep(down_s)
        start_broker(persistent_stack, timeout_s=60)
        timeline["restarted"] = time.monotonic()

    publisher = KafkaPublisher(persistent_stack.bootstrap_servers, tmp_path / "spool")
    published: list[Message] = []
    spooled_during_outage = 0
    chaos = threading.Thread(target=outage, daemon=True)
    chaos.start()
    try:
        for message in paced(synthetic_replay(CAMERAS, frames, FPS, run_id), FPS):
            publisher.publish(message)
            published.append(message)
            if "killed" in timeline and "restarted" not in timeline:
                spooled_during_outage = max(spooled_during_outage, publisher.pending)
        chaos.join(90)
        assert "restarted" in timeline
        publisher.flush(60)
        assert publisher.pending == 0, f"{publisher.pending} messages still in the spool"
    finally:
        publisher.close()

    received = consume_run(persistent_stack.bootstrap_servers, run_id)
    print(
        f"\npublished {len(published)} messages; broker down {down_s:.0f} s; "
        f"most waiting in the spool during the outage {spooled_during_outage}; "
        f"sent {publisher.sent}, re-sent {publisher.resent}, "
        f"found already delivered {publisher.already_delivered}, "
        f"reconnects {publisher.reconnects}; received {len(received)}"
    )

    # Every frame message exactly once, in order per camera (frame_index 0, 1, 2, …).
    for camera in CAMERAS:
        indexes = [
            m.frame_index
            for _, _, m in received
            if isinstance(m, FrameObservations) and m.camera_id == camera
        ]
        assert indexes == list(range(frames)), f"{camera}: frames missing, repeated or reordered"
    # The other messages too: exactly once, in the published order per camera and topic.
    assert len(received) == len(published)
    assert len({_natural_key(m) for _, _, m in received}) == len(published)
    by_stream: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for topic, _, message in received:
        by_stream[(topic, message.camera_id)].append(message)
    for (topic, camera), got in by_stream.items():
        sent = [m for m in published if topics.topic_for(m) == topic and m.camera_id == camera]
        assert got == sent, f"{topic} {camera}: not in the published order"
    # One camera, one partition.
    partitions: dict[tuple[str, str], set[int]] = defaultdict(set)
    for topic, partition, m in received:
        partitions[(topic, m.camera_id)].add(partition)
    assert all(len(p) == 1 for p in partitions.values())

    # The outage was seen, said once, and the backlog drained.
    assert spooled_during_outage > 0
    assert publisher.reconnects >= 1
    assert publisher.dropped == 0
    unreachable = [r for r in caplog.records if "is unreachable" in r.getMessage()]
    assert len(unreachable) == 1, [r.getMessage() for r in unreachable]
    assert persistent_stack.bootstrap_servers in unreachable[0].getMessage()
    assert any("draining" in r.getMessage() for r in caplog.records)


def test_spool_left_while_broker_was_down_is_sent_by_the_next_process(
    persistent_stack: StackProfile, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge.publish")
    run_id = new_run_id()
    messages = list(synthetic_replay(CAMERAS, 50, FPS, run_id, seed=2))
    spool = tmp_path / "spool"
    stop_broker(persistent_stack)
    try:
        # The broker is down from the start: construction works, everything waits on disk.
        first = KafkaPublisher(persistent_stack.bootstrap_servers, spool, close_timeout_s=1.0)
        for message in messages:
            first.publish(message)
        first.close()
        assert first.pending == len(messages)
        assert first.sent == 0
        unreachable = [r for r in caplog.records if "is unreachable" in r.getMessage()]
        assert len(unreachable) == 1
        # A copy of the spool as it was then: as if a later run had lost its acknowledgements.
        shutil.copytree(spool, tmp_path / "spool-copy")
    finally:
        start_broker(persistent_stack, timeout_s=60)

    second = KafkaPublisher(persistent_stack.bootstrap_servers, spool)
    second.flush(60)
    second.close()
    assert second.pending == 0
    assert second.sent == len(messages)

    # The copy still lists every message as unsent, and its state says a batch may be in
    # flight: the next publisher reads the partitions back and sends nothing twice.
    state = (tmp_path / "spool-copy" / "state.json").read_text()
    (tmp_path / "spool-copy" / "state.json").write_text(
        state.replace('"clean":true', '"clean":false')
    )
    third = KafkaPublisher(persistent_stack.bootstrap_servers, tmp_path / "spool-copy")
    third.flush(60)
    third.close()
    assert third.pending == 0
    assert third.sent == 0
    assert third.already_delivered == len(messages)

    received = [m for _, _, m in consume_run(persistent_stack.bootstrap_servers, run_id)]
    assert sorted(_natural_key(m) for m in received) == sorted(_natural_key(m) for m in messages)
    for camera in CAMERAS:
        indexes = [
            m.frame_index
            for m in received
            if isinstance(m, FrameObservations) and m.camera_id == camera
        ]
        assert indexes == list(range(50))


DEMO_SITE = REPO_ROOT / "configs" / "sites" / "demo.yaml"
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} (demo footage) not present")
def test_real_edge_run_keeps_every_frame_once_in_order_across_a_broker_kill(
    persistent_stack: StackProfile, tmp_path: Path
) -> None:
    """`footfall edge run` on the demo site's real footage, through the Kafka sink and its spool,
    with the broker killed while the node runs and started again."""
    frames = 40
    node = "broker-kill-node"
    config = tmp_path / "edge.yaml"
    config.write_text("detector:\n  image_size: 320\n")  # small input: a quick run on 2 cores
    spool = tmp_path / "spool"
    cmd = [
        sys.executable, "-m", "footfall.cli", "edge", "run", "--site", str(DEMO_SITE),
        "--node", node, "--config", str(config), "--sink", "kafka",
        "--bootstrap-servers", persistent_stack.bootstrap_servers, "--spool-dir", str(spool),
        "--fast", "--max-frames", str(frames),
        # A loaded CI machine may take a while to restart the broker: wait for it at exit.
        "--drain-timeout", "180",
    ]  # fmt: skip
    log = (tmp_path / "node.log").open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        # Kill the broker once the node has delivered something (the spool's frontier moved).
        deadline = time.monotonic() + 180
        while not _spool_delivered(spool / node / "state.json"):
            assert proc.poll() is None, (
                f"edge run ended early: {(tmp_path / 'node.log').read_text()}"
            )
            assert time.monotonic() < deadline, "the node delivered nothing within 180 s"
            time.sleep(0.2)
        assert proc.poll() is None, "the run finished before the broker could be stopped"
        stop_broker(persistent_stack, kill=True)
        time.sleep(4)
        start_broker(persistent_stack, timeout_s=60)
        assert proc.wait(timeout=300) == 0, (tmp_path / "node.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    node_log = (tmp_path / "node.log").read_text()
    assert "publisher closed with" not in node_log, node_log
    assert "order on that partition may be broken" not in node_log, node_log
    received = consume_matching(persistent_stack.bootstrap_servers, lambda m: m.node_id == node)
    keys = [_natural_key(message) for _, _, message in received]
    assert len(keys) == len(set(keys)), "a message arrived twice"
    by_camera: dict[str, list[int]] = defaultdict(list)
    for _, _, message in received:
        if isinstance(message, FrameObservations):
            by_camera[message.camera_id].append(message.frame_index)
    assert set(by_camera) == {"pets-view1", "tud-stadtmitte", "intel-entrance"}
    for camera, indexes in by_camera.items():
        assert indexes == list(range(frames)), (
            f"{camera}: frames missing, doubled or reordered; node log:\n{node_log}"
        )


def test_one_spool_batch_goes_to_the_broker_in_one_request(
    persistent_stack: StackProfile, tmp_path: Path
) -> None:
    """A camera's share of a spool batch is sent as one producer batch in one request, never
    split into requests one after the other (the second would overtake a re-send of the first
    if the first's outcome were uncertain), however long handing the records over takes."""
    run_id = new_run_id()
    cameras = ("cam-batch-a", "cam-batch-b", "cam-batch-c")
    messages = [
        m
        for m in synthetic_replay(cameras, 1000, FPS, run_id, seed=3)
        if isinstance(m, FrameObservations)
    ]
    # One spool batch takes them all (about 0.7 MB); it used to leave in two or more requests.
    limits = {"batch_max_records": 5000, "batch_max_bytes": 2 * 1024 * 1024}
    spool = tmp_path / "spool"
    # Fill the spool while no broker answers, so the next publisher finds one full batch.
    offline = KafkaPublisher("127.0.0.1:1", spool, close_timeout_s=0.1, **limits)
    for message in messages:
        offline.publish(message)
    offline.close()

    # Hold the GIL in bursts, as the edge's pipeline threads do while the sender hands over.
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            sum(i * i for i in range(20000))

    burner = threading.Thread(target=busy, daemon=True)
    burner.start()
    publisher = KafkaPublisher(persistent_stack.bootstrap_servers, spool, **limits)
    try:
        publisher.flush(60)
        assert publisher.pending == 0
        produce = publisher._producer.metrics()["producer-metrics"]
    finally:
        stop.set()
        publisher.close()
    assert produce["records-per-request-avg"] == len(messages), produce
    received = consume_run(persistent_stack.bootstrap_servers, run_id)
    by_camera: dict[str, list[int]] = defaultdict(list)
    for _, _, message in received:
        assert isinstance(message, FrameObservations)
        by_camera[message.camera_id].append(message.frame_index)
    assert by_camera == {camera: list(range(1000)) for camera in cameras}


def _spool_delivered(state_file: Path) -> bool:
    import json

    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return False
    return bool((state.get("meta") or {}).get("offsets"))
