"""In-memory twins of the Kafka source and the dead-letter topic, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cloud.transport.types import DeadLetter, DeadLetterResult, Offsets, Record


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
