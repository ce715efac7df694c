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
    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Publish the letters and wait until the broker has them."""
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
    """In-memory twin of the dead-letter topic."""

    letters: list[DeadLetter] = field(default_factory=list)

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)

    def close(self) -> None:
        pass
