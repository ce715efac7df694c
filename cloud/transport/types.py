"""What the transport hands ingest: the consumed record, offsets, dead letters, and the protocols
of a record source and a dead-letter sink (implemented by :mod:`cloud.transport.kafka` and, in
memory for tests, :mod:`cloud.transport.memory`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Offsets = dict[tuple[str, int], int]
"""(topic, partition) → the next offset to read (the Kafka commit convention)."""


@dataclass(frozen=True)
class Record:
    """One consumed Kafka record, transport-neutral."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    """A record that could not be ingested, and the one-sentence reason why."""

    record: Record
    reason: str


@dataclass(frozen=True)
class DeadLetterResult:
    """What became of a lot of dead letters handed to a :class:`DeadLetterSink`."""

    sent: int = 0
    """Published (the broker has them)."""
    already_sent: int = 0
    """Skipped: the topic already held them (sent before a crash, then delivered again)."""
    failed: int = 0
    """Could not be published; each was logged and skipped."""


class Source(Protocol):
    """Where records come from and where progress is committed."""

    def poll(self, timeout_s: float) -> list[Record]: ...

    def commit(self, offsets: Offsets) -> bool:
        """Commit offsets; False if the group rebalanced and the commit was refused."""
        ...

    def on_revoke(self, handler: Callable[[], None]) -> None:
        """Call ``handler`` before partitions are taken away (to flush and commit)."""
        ...

    def assigned(self) -> bool:
        """True while this consumer holds partitions (False while it joins or rebalances)."""
        ...

    def close(self) -> None: ...


class DeadLetterSink(Protocol):
    def send(self, letters: Sequence[DeadLetter]) -> DeadLetterResult:
        """Publish the letters and wait until the broker has them.

        Letters that cannot be published are logged and counted as ``failed``; the sink may
        also raise, and the pipeline then counts the whole lot as failed. Either way the
        offsets are committed: a dead letter never holds up ingest.
        """
        ...

    def partitions_moved(self) -> None:
        """Partitions may have moved between consumers (a rebalance): before the next send,
        learn which letters the others published (to publish none twice)."""
        ...

    def close(self) -> None: ...
