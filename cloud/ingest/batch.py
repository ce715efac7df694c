"""Step 2: collect decoded messages until the batch is big or old enough to write."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloud.ingest.decode import Decoded, Held
from cloud.transport.types import DeadLetter, Offsets, Record
from footfall.contract import Message


@dataclass
class Batch:
    """Messages, held records and dead letters to write in one transaction, the held records
    it takes in (``released``: ingested now, deleted in the same transaction), and the offsets
    it covers."""

    max_messages: int
    max_age_s: float
    messages: list[Message] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    released: list[Held] = field(default_factory=list)
    offsets: Offsets = field(default_factory=dict)
    records: int = 0
    started_at: float | None = None

    def add(self, records: list[Record], decoded: Decoded, now: float) -> None:
        if not records:
            return
        if self.started_at is None:
            self.started_at = now
        self.messages.extend(decoded.messages)
        self.dead.extend(decoded.dead)
        self.held.extend(decoded.held)
        self.records += len(records)
        for record in records:
            key = (record.topic, record.partition)
            self.offsets[key] = max(self.offsets.get(key, 0), record.offset + 1)

    def ready(self, now: float) -> bool:
        if self.records == 0:
            return False
        assert self.started_at is not None
        return self.records >= self.max_messages or now - self.started_at >= self.max_age_s

    def clear(self) -> None:
        self.messages = []
        self.dead = []
        self.held = []
        self.released = []
        self.offsets = {}
        self.records = 0
        self.started_at = None
