"""The ingest loop: poll → decode → batch → write (DB commit) → dead letters → offset commit.

The offset commit is the last step of every flush, so an offset is never committed before the
database transaction holding its messages (and the dead letters of its invalid records) are
durable. A crash anywhere before the commit means redelivery, which the idempotent writer absorbs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cloud.ingest.batch import Batch
from cloud.ingest.decode import decode_records
from cloud.ingest.records import DeadLetterSink, Source
from cloud.ingest.writer import Writer

log = logging.getLogger("footfall.cloud.ingest")


@dataclass
class IngestStats:
    records: int = 0
    frames: int = 0
    observations: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    commits_refused: int = 0


class IngestPipeline:
    """One consumer's chain of steps; ``after_commit`` runs after each flush (analytics)."""

    def __init__(
        self,
        source: Source,
        writer: Writer,
        dead_letters: DeadLetterSink,
        cameras: Mapping[str, frozenset[str]],
        batch_messages: int,
        batch_seconds: float,
        after_flush: Callable[[], None] | None = None,
        namespace: str = "",
    ) -> None:
        self.namespace = namespace
        self.source = source
        self.writer = writer
        self.dead_letters = dead_letters
        self.cameras = cameras
        self.batch = Batch(batch_messages, batch_seconds)
        self.after_flush = after_flush
        self.stats = IngestStats()
        source.on_revoke(self.flush)

    def step(self, poll_timeout_s: float = 0.2) -> int:
        """Poll once, add to the batch, flush if it is ready; returns the records polled."""
        records = self.source.poll(poll_timeout_s)
        now = time.monotonic()
        if records:
            self.batch.add(records, decode_records(records, self.cameras, self.namespace), now)
            self.stats.records += len(records)
        if self.batch.ready(now):
            self.flush()
        return len(records)

    def flush(self) -> None:
        """Write the batch, publish its dead letters, then commit its offsets."""
        batch = self.batch
        if batch.records == 0:
            return
        result = self.writer.write(batch.messages)
        if batch.dead:
            self.dead_letters.send(batch.dead)
        if not self.source.commit(batch.offsets):
            # The group rebalanced: the new owner re-reads these records and the writes are
            # idempotent, so nothing is lost or counted twice.
            self.stats.commits_refused += 1
        self.stats.frames += result.frames
        self.stats.observations += result.observations
        self.stats.duplicates += result.duplicates
        self.stats.dead_letters += len(batch.dead)
        self.stats.batches += 1
        batch.clear()
        if self.after_flush is not None:
            self.after_flush()

    def run(self, stop: threading.Event, idle_exit_s: float | None = None) -> IngestStats:
        """Loop until ``stop`` is set (or nothing arrived for ``idle_exit_s``); drain and commit."""
        last_data = time.monotonic()
        try:
            while not stop.is_set():
                if self.step():
                    last_data = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - last_data > idle_exit_s:
                    break
            self.flush()
        finally:
            self.source.close()
            self.dead_letters.close()
        return self.stats
