"""The consumed record, the transport protocols, and their in-memory twins for tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


@dataclass
class MemorySource:
    """In-memory twin of the Kafka source: hands out records, records commits."""

    records: list[Record]
    per_poll: int = 1000
    committed: Offsets = field(default_factory=dict)
    _pos: int = 0

    def poll(self, timeout_s: float) -> list[Record]:
        out = self.records[self._pos : self._pos + self.per_poll]
        self._pos += len(out)
        return out

    def commit(self, offsets: Offsets) -> bool:
        self.committed.update(offsets)
        return True

    def on_revoke(self, handler: Callable[[], None]) -> None:
        pass

    def assigned(self) -> bool:
        return True

    def close(self) -> None:
        pass

    @property
    def exhausted(self) -> bool:
        return self._pos >= len(self.records)


@dataclass
class MemoryDeadLetters:
    """In-memory twin of the dead-letter topic; ``error`` makes every send raise it."""

    letters: list[DeadLetter] = field(default_factory=list)
    error: Exception | None = None

    def send(self, letters: Sequence[DeadLetter]) -> DeadLetterResult:
        if self.error is not None:
            raise self.error
        self.letters.extend(letters)
        return DeadLetterResult(sent=len(letters))

    def partitions_moved(self) -> None:
        pass

    def close(self) -> None:
        pass
