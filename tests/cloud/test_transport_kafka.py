"""The ingest source's unsettled-membership warning and the dead-letter producer (stand-ins
for kafka-python's clients, no broker)."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

import cloud.transport.kafka
from cloud.transport.kafka import (
    DEADLETTER_MAX_VALUE_BYTES,
    DEADLETTER_SHA256_HEADER,
    DEADLETTER_SIZE_HEADER,
    DEADLETTER_TRUNCATED_HEADER,
    KafkaDeadLetters,
    KafkaSource,
    dead_letter_record,
    dead_letter_source,
)
from cloud.transport.types import DeadLetter, DeadLetterResult, Record
from footfall.contract import topics


@dataclass
class _Coordinator:
    is_stable: bool

    def stable(self) -> bool:
        return self.is_stable


@dataclass
class _Consumer:
    """Stands in for kafka-python's consumer: records its settings, never assigned."""

    stable: bool = False
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._coordinator = _Coordinator(self.stable)

    def subscribe(self, topics: list[str], listener: object) -> None:
        pass

    def poll(self, timeout_ms: int) -> dict[Any, Any]:
        return {}

    def assignment(self) -> set[str]:
        return set()


def _source(monkeypatch: pytest.MonkeyPatch, stable: bool) -> tuple[KafkaSource, _Consumer]:
    made: list[_Consumer] = []

    def consumer(**config: Any) -> _Consumer:
        made.append(_Consumer(stable, config))
        return made[-1]

    monkeypatch.setattr(cloud.transport.kafka, "KafkaConsumer", consumer)
    return KafkaSource("127.0.0.1:1", "g", unsettled_warning_s=0.04), made[0]


def test_unsettled_membership_is_reported_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    source, _ = _source(monkeypatch, stable=False)
    with caplog.at_level(logging.WARNING, "footfall.cloud.bus"):
        source.poll(0)
        assert not caplog.records  # membership gets unsettled_warning_s to settle
        for _ in range(3):
            time.sleep(0.05)
            source.poll(0)
    assert len(caplog.records) == 1
    assert "has not assigned partitions" in caplog.records[0].getMessage()


def test_stable_member_without_partitions_is_not_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # More ingest processes than partitions: a stable member may hold none.
    source, _ = _source(monkeypatch, stable=True)
    with caplog.at_level(logging.WARNING, "footfall.cloud.bus"):
        for _ in range(3):
            source.poll(0)
            time.sleep(0.05)
    assert not caplog.records


# ---------------------------------------------------------------- dead letters (no broker)


def _letter(offset: int, value: bytes | None, key: bytes | None = b"demo/cam-a") -> DeadLetter:
    return DeadLetter(Record(topics.OBSERVATIONS_TOPIC, 0, offset, key, value), "too large")


def test_dead_letter_record_is_small_and_says_what_the_original_was() -> None:
    value = bytes(range(256)) * 40_000  # 10 MB
    key, cut, headers = dead_letter_record(_letter(7, value, key=b"k" * 5000))
    found = dict(headers)
    assert cut == value[:DEADLETTER_MAX_VALUE_BYTES] and key == b"k" * 1024
    assert found[DEADLETTER_SIZE_HEADER] == str(len(value)).encode()
    assert found[DEADLETTER_SHA256_HEADER] == hashlib.sha256(value).hexdigest().encode()
    assert found[DEADLETTER_TRUNCATED_HEADER] == b"key,value"
    assert found[topics.DEADLETTER_REASON_HEADER] == b"too large"
    assert dead_letter_source(headers) == (topics.OBSERVATIONS_TOPIC, 0, 7)
    # A small record keeps its bytes and says nothing was cut; an empty one has no hash.
    key, same, headers = dead_letter_record(_letter(8, b"{oops"))
    assert same == b"{oops" and DEADLETTER_TRUNCATED_HEADER not in dict(headers)
    _, none, headers = dead_letter_record(_letter(9, None))
    assert none is None and dict(headers)[DEADLETTER_SIZE_HEADER] == b"-1"
    assert DEADLETTER_SHA256_HEADER not in dict(headers)


@dataclass
class _Sent:
    exception: Exception | None = None

    def succeeded(self) -> bool:
        return self.exception is None


@dataclass
class _Producer:
    """Stands in for kafka-python's producer: refuses key b"refused", never answers b"lost"."""

    sent: list[tuple[int, bytes | None]] = field(default_factory=list)

    def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2, 3}

    def send(self, topic: str, key: bytes, value: bytes, headers: object, partition: int) -> _Sent:
        if key == b"refused":
            raise MessageSizeTooLargeError("The message is 2000000 bytes when serialized")
        if key == b"lost":
            return _Sent(KafkaTimeoutError("no answer"))
        self.sent.append((partition, value))
        return _Sent()

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        pass


def test_dead_letters_skip_what_the_topic_holds_and_never_raise(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    producer = _Producer()
    monkeypatch.setattr(cloud.transport.kafka, "KafkaProducer", lambda **config: producer)
    looks: list[int] = []
    monkeypatch.setattr(KafkaDeadLetters, "_catch_up", lambda self: looks.append(1))
    sink = KafkaDeadLetters("127.0.0.1:1")
    sink.highest[(topics.OBSERVATIONS_TOPIC, 0)] = 5  # read back: sent before a crash
    letters = [_letter(i, b"v%d" % i) for i in range(3, 9)]
    letters += [_letter(9, b"v9", key=b"refused"), _letter(10, b"v10", key=b"lost")]
    with caplog.at_level(logging.ERROR, "footfall.cloud.bus"):
        result = sink.send(letters)
    assert result == DeadLetterResult(sent=3, already_sent=3, failed=2)
    assert [value for _, value in producer.sent] == [b"v6", b"v7", b"v8"]
    assert len({partition for partition, _ in producer.sent}) == 1  # one source partition: one
    assert sink.highest[(topics.OBSERVATIONS_TOPIC, 0)] == 8
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "offset 9" in lines[0] and "MessageSizeTooLargeError" in lines[0]
    assert "offset 10" in lines[1] and "KafkaTimeoutError" in lines[1]
    # The topic is read again only after a rebalance (nobody else writes letters for the
    # partitions this consumer holds meanwhile).
    assert len(looks) == 1
    assert sink.send([_letter(11, b"v11")]) == DeadLetterResult(sent=1)
    assert len(looks) == 1
    sink.partitions_moved()
    assert sink.send([_letter(11, b"v11")]) == DeadLetterResult(already_sent=1)
    assert len(looks) == 2
