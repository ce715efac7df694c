"""``footfall cloud deepstream-bridge`` as a process: DeepStream's topic in, contract topics out.

A chain that ends in the offset commit, like ingest: poll → parse each record (a bad one, or
one of an unknown sensor, goes to the dead-letter topic with the reason) → :class:`Bridge` →
publish and wait for the broker → save the state file (the bridge's memory and the next offset
of every partition, written atomically) → commit the offsets.

**Exactly once.** The state file is saved after the output is on the broker and before the
offsets are committed. After a crash the consumer group may hand back records the state already
holds (committed offsets lag the state's): those below the state's offsets are skipped. Records
after them were either never processed or processed without their state being saved: the bridge
processes them again from the same state, and being deterministic (ids are an HMAC under the
state's key) sends the same messages again, which ingest keeps once by their natural keys. One
bridge process per DeepStream topic and state file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import FrameType

from cloud.deepstream.bridge import Bridge, BridgeSettings, BridgeState
from cloud.deepstream.payloads import PayloadError, Schema, parse
from cloud.transport.kafka import (
    ConfirmedPublisher,
    KafkaDeadLetters,
    KafkaSource,
    ensure_topics,
    topic_name,
)
from cloud.transport.types import DeadLetter, Offsets
from footfall.contract import Message
from footfall.errors import UserError
from footfall.site import Site

log = logging.getLogger("footfall.cloud.deepstream")

REPORT_EVERY_S = 60.0
"""A progress line (frames, objects, tracklets … so far) this often."""


class StateFileError(UserError):
    """The bridge's state file cannot be read or written."""


def load_state(path: Path) -> BridgeState | None:
    if not path.exists():
        return None
    try:
        return BridgeState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateFileError(
            f"the bridge's state file {path} cannot be read ({exc.__class__.__name__}: {exc}); "
            "restore it, or move it away to start afresh (new anonymous ids; the topic is read "
            "from the consumer group's committed offsets)"
        ) from None


def save_state(path: Path, state: BridgeState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state.to_json(), f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # the key that makes ids anonymous
        os.replace(tmp, path)
    except OSError as exc:
        raise StateFileError(
            f"cannot write the bridge's state file {path}: {exc.strerror}; pass a writable path "
            "with --state-file"
        ) from None


def run_bridge(
    bootstrap_servers: str,
    sites: Sequence[Site],
    settings: BridgeSettings,
    state_file: Path,
    deepstream_topics: Sequence[str],
    group_id: str,
    namespace: str = "",
    schema: Schema | None = None,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
) -> Bridge:
    """Run until ``stop`` (SIGTERM, SIGINT) or ``idle_exit_s`` without records."""
    stop = stop or threading.Event()
    _stop_on_signals(stop)
    bridge = Bridge(list(sites), settings, load_state(state_file))
    ensure_topics(bootstrap_servers, namespace=namespace, extra_topics=deepstream_topics)
    in_topics = [topic_name(t, namespace) for t in deepstream_topics]
    source = KafkaSource(bootstrap_servers, group_id, in_topics)
    publisher = ConfirmedPublisher(bootstrap_servers, namespace)
    letters = KafkaDeadLetters(bootstrap_servers, namespace)
    skipped = dead = 0
    last_record = last_report = time.monotonic()
    log.info("bridging %s → the contract topics (state %s)", ", ".join(in_topics), state_file)

    def finish(out: list[Message], offsets: Offsets, bad: list[DeadLetter]) -> None:
        nonlocal dead
        if out:
            publisher.send(out)
            publisher.confirm()
        if bad:
            letters.send(bad)
            dead += len(bad)
        for (topic, partition), offset in offsets.items():
            bridge.state.offsets[f"{topic}|{partition}"] = offset
        save_state(state_file, bridge.state)
        if offsets and not source.commit(offsets):
            letters.partitions_moved()

    try:
        while not stop.is_set():
            records = source.poll(0.5)
            now = time.monotonic()
            if not records and not source.assigned():
                # The consumer group is still (re)balancing (after a restart it can take a
                # while): nothing has been read, so neither idle time nor silence counts yet.
                last_record = now
                continue
            out: list[Message] = []
            offsets: Offsets = {}
            bad: list[DeadLetter] = []
            for record in records:
                tp = (record.topic, record.partition)
                offsets[tp] = record.offset + 1
                if record.offset < bridge.state.offsets.get(f"{tp[0]}|{tp[1]}", 0):
                    skipped += 1  # already in the saved state (committed offsets lag it)
                    continue
                try:
                    out += bridge.feed(parse(record.value, schema), now)
                except PayloadError as exc:
                    bad.append(DeadLetter(record, f"DeepStream payload: {exc}"))
            if records:
                last_record = now
            else:  # caught up: wall-clock waits apply (not while a backlog is read)
                out += bridge.tick(now)
            if records or out:
                finish(out, offsets, bad)
            if now - last_report >= REPORT_EVERY_S:
                last_report = now
                log.info("%s, dead letters %d", _counts(bridge), dead)
            if idle_exit_s is not None and now - last_record >= idle_exit_s:
                log.info("no records for %.0f s: ending open tracklets and stopping", idle_exit_s)
                finish(bridge.flush(), {}, [])
                break
    finally:
        source.close()
        publisher.close()
        letters.close()
    log.info(
        "deepstream-bridge stopped: %s, dead letters %d, records already in the state %d",
        _counts(bridge),
        dead,
        skipped,
    )
    return bridge


def _counts(bridge: Bridge) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in asdict(bridge.counts).items())


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the batch, saving the state and stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
