"""The ingest source's unsettled-membership warning (a stand-in consumer, no broker)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

import cloud.bus
from cloud.bus import KafkaSource


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

    monkeypatch.setattr(cloud.bus, "KafkaConsumer", consumer)
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
