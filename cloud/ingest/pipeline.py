"""The ingest loop: poll → decode → batch → write (DB commit) → dead letters → offset commit.

The offset commit is the last step of every flush, so an offset is never committed before the
database transaction holding its messages (and the dead letters of its invalid records) are
durable. A crash anywhere before the commit means redelivery, which the idempotent writer absorbs.

One batch is in flight: a full batch is handed to a writer thread (the database write) while
this thread polls and decodes the next one (the write mostly waits on
the server, with the GIL released). Before the next batch is handed over, or at a drain, the
batch in flight is waited for and only then are its dead letters sent and its offsets
committed, so offsets are still committed after their transaction, in order, and always from
this thread (the Kafka consumer is not thread-safe). A failed write raises here and commits
nothing, neither for its batch nor for any later one.

``after_flush`` (analytics derivation, retention) runs on a third thread after a batch is
committed, one pass at a time, and never holds up polling: a long derivation pass must not
keep this thread from polling (the broker would count the member as gone). It works from the
database alone (its results are exactly-once by their own transactions), so it needs no
offsets. Its failure is raised here at the next step, as a failed write is.

Dead letters never hold up the offset commit: a sink that cannot publish some (or raises) has
them logged, one sentence each lot, and counted in ``IngestStats.dead_letters_unsent``; the
offsets are committed all the same, so one bad record can never stop a partition (a record
that made the dead-letter publish raise used to crash ingest before the commit, and every
restart died on it again). A message stamped more than ``max_future_skew_s`` ahead of
ingest's clock is a dead letter (see :mod:`cloud.ingest.decode`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from cloud.ingest.batch import Batch
from cloud.ingest.decode import decode_records
from cloud.ingest.writer import Writer, WriteResult
from cloud.transport.types import DeadLetter, DeadLetterResult, DeadLetterSink, Source

log = logging.getLogger("footfall.cloud.ingest")


@dataclass
class IngestStats:
    records: int = 0
    frames: int = 0
    observations: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    """Records rejected (invalid, misrouted, unknown site or camera, future-dated)."""
    dead_letters_unsent: int = 0
    """…of which could not be published to the dead-letter topic: logged and skipped."""
    dead_letters_resent: int = 0
    """…of which the dead-letter topic already held (published before a crash): not repeated."""
    batches: int = 0
    commits_refused: int = 0
    """Offset commits the group refused after a rebalance (the new owner re-reads those
    records; the writes are idempotent, so nothing is lost or counted twice)."""

    def summary(self) -> str:
        """``key=value`` figures for the ingest stop log line."""
        return (
            f"records={self.records} frames={self.frames} observations={self.observations} "
            f"duplicates={self.duplicates} dead_letters={self.dead_letters} "
            f"dead_letters_unsent={self.dead_letters_unsent} "
            f"dead_letters_resent={self.dead_letters_resent} "
            f"commits_refused={self.commits_refused}"
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


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
        max_future_skew_s: float | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.namespace = namespace
        self.max_future_skew_s = max_future_skew_s
        self.clock = clock
        self.source = source
        self.writer = writer
        self.dead_letters = dead_letters
        self.cameras = cameras
        self.batch = Batch(batch_messages, batch_seconds)
        self.after_flush = after_flush
        self.stats = IngestStats()
        self._executor: ThreadPoolExecutor | None = None
        self._inflight: tuple[Batch, Future[WriteResult]] | None = None
        self._analytics: ThreadPoolExecutor | None = None
        self._analysing: Future[None] | None = None
        source.on_revoke(self._revoked)

    def step(self, poll_timeout_s: float = 0.2) -> int:
        """Poll once, add to the batch, hand it over if it is ready; returns the records polled."""
        records = self.source.poll(poll_timeout_s)
        now = time.monotonic()
        if records:
            decoded = decode_records(
                records, self.cameras, self.namespace, self.clock(), self.max_future_skew_s
            )
            self.batch.add(records, decoded, now)
            self.stats.records += len(records)
        if self._inflight is not None and self._inflight[1].done():
            self._finish()  # commit as soon as the write is durable
        if self.batch.ready(now):
            self._submit()
        return len(records)

    def _revoked(self) -> None:
        """Partitions are taken away: commit what is done; others may publish letters now."""
        self.flush()
        self.dead_letters.partitions_moved()

    def flush(self) -> None:
        """Write the batch, publish its dead letters, then commit its offsets (and wait)."""
        self._submit()
        self._finish()

    def _submit(self) -> None:
        """Finish the batch in flight, then hand the current one to the writer thread."""
        self._finish()
        batch = self.batch
        if batch.records == 0:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        self._inflight = (batch, self._executor.submit(self._write, batch))
        self.batch = Batch(batch.max_messages, batch.max_age_s)

    def _write(self, batch: Batch) -> WriteResult:
        return self.writer.write(batch.messages)

    def _analyse(self, wait: bool = False) -> None:
        """Start an ``after_flush`` pass unless one is running; raise a failed pass's error."""
        if self.after_flush is None:
            return
        running = self._analysing
        if running is not None:
            if not (wait or running.done()):
                return
            self._analysing = None
            running.result()
        if wait:
            return
        if self._analytics is None:
            self._analytics = ThreadPoolExecutor(1, thread_name_prefix="ingest-analytics")
        self._analysing = self._analytics.submit(self.after_flush)

    def _finish(self) -> None:
        """Wait for the batch in flight; then send its dead letters and commit its offsets."""
        if self._inflight is None:
            return
        batch, future = self._inflight
        self._inflight = None
        result = future.result()  # a failed write raises here: nothing is committed
        if batch.dead:
            self._send_dead_letters(batch.dead)
        if not self.source.commit(batch.offsets):
            # The group rebalanced: the new owner re-reads these records and the writes are
            # idempotent, so nothing is lost or counted twice.
            self.stats.commits_refused += 1
        self.stats.frames += result.frames
        self.stats.observations += result.observations
        self.stats.duplicates += result.duplicates
        self.stats.dead_letters += len(batch.dead)
        self.stats.batches += 1
        self._analyse()

    def _send_dead_letters(self, letters: list[DeadLetter]) -> None:
        """Publish dead letters; whatever goes wrong is logged and counted, never raised."""
        try:
            result = self.dead_letters.send(letters)
        except Exception as exc:  # a dead letter must never stop ingest
            first = letters[0].record
            log.error(
                "could not publish %d dead letters (the first from %s partition %d offset %d): "
                "%s: %s; skipped them and committed their offsets, so check the broker and "
                "its dead-letter topic",
                len(letters),
                first.topic,
                first.partition,
                first.offset,
                type(exc).__name__,
                exc,
            )
            result = DeadLetterResult(failed=len(letters))
        self.stats.dead_letters_unsent += result.failed
        self.stats.dead_letters_resent += result.already_sent

    def run(self, stop: threading.Event, idle_exit_s: float | None = None) -> IngestStats:
        """Loop until ``stop`` is set (or nothing arrived for ``idle_exit_s``); drain and commit.

        Idle time counts only while the consumer holds partitions: joining the group or waiting
        out a rebalance (slow on a loaded machine) is not idleness.
        """
        last_data = time.monotonic()
        try:
            while not stop.is_set():
                if self.step() or not self.source.assigned():
                    last_data = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - last_data > idle_exit_s:
                    break
            self.flush()
            self._analyse(wait=True)
        finally:
            self._inflight = None  # after a failure: never commit what follows it
            for executor in (self._executor, self._analytics):
                if executor is not None:
                    executor.shutdown(wait=True)
            self._executor = self._analytics = None
            self._analysing = None
            self.source.close()
            self.dead_letters.close()
        return self.stats
