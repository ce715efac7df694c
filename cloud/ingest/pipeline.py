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

A valid record of a site or camera without a config is never a dead letter: it is held (stored
in the batch's transaction, then its offset committed) and a warning names the site, the camera
and the fix, at once and every ``warn_every_s`` while more arrive. :meth:`IngestPipeline.release`
takes the held records of sites and cameras that have a config now (the service calls it when
one arrives) in batches that delete them as they write them: nothing is lost or counted twice.
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
from cloud.ingest.decode import Held, decode_records
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
    held: int = 0
    """Valid records of a site or camera without a config: stored, ingested once it has one."""
    released: int = 0
    """Held records ingested (their config arrived), this run's and earlier runs'."""
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
            f"held={self.held} released={self.released} "
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
        tick: Callable[[], None] | None = None,
        hold_fix: str = "add its config and restart ingest",
        warn_every_s: float = 60.0,
    ) -> None:
        self.tick = tick
        """Called on every turn of :meth:`run` (the service re-reads the sites folder)."""
        self.hold_fix = hold_fix
        """How to end a hold: the end of the warning about held records."""
        self.warn_every_s = warn_every_s
        self._held_by: dict[tuple[str, str], int] = {}
        self._held_warned_at = float("-inf")
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
        self._inflight = (batch, self._submit_write(batch))
        self.batch = Batch(batch.max_messages, batch.max_age_s)

    def _write(self, batch: Batch) -> WriteResult:
        return self.writer.write(batch.messages, batch.held, batch.released)

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
        if batch.offsets and not self.source.commit(batch.offsets):
            # The group rebalanced: the new owner re-reads these records and the writes are
            # idempotent, so nothing is lost or counted twice.
            self.stats.commits_refused += 1
        self.stats.frames += result.frames
        self.stats.observations += result.observations
        self.stats.duplicates += result.duplicates
        self.stats.dead_letters += len(batch.dead)
        self.stats.held += len(batch.held)
        self.stats.released += len(batch.released)
        self.stats.batches += 1
        if batch.held:
            self._warn_held(batch.held)
        self._analyse()

    def _warn_held(self, held: list[Held]) -> None:
        """Say loudly what is held and how to end it: for a new site or camera at once, else
        at most every ``warn_every_s``."""
        new = False
        for h in held:
            pair = (h.site_id, h.camera_id)
            new = new or pair not in self._held_by
            self._held_by[pair] = self._held_by.get(pair, 0) + 1
        now = time.monotonic()
        if not new and now - self._held_warned_at < self.warn_every_s:
            return
        self._held_warned_at = now
        log.warning(
            "holding %d records (none lost, none ingested yet) of %s: %s",
            sum(self._held_by.values()),
            self.describe_held(self._held_by),
            self.hold_fix,
        )

    def describe_held(self, counts: Mapping[tuple[str, str], int]) -> str:
        """``site 'x' (no config): camera 'a' 12, …; camera 'z' of site 'demo' (not in its
        config) 3``."""
        by_site: dict[str, list[tuple[str, int]]] = {}
        for (site, camera), n in sorted(counts.items()):
            by_site.setdefault(site, []).append((camera, n))
        parts = []
        for site, cams in by_site.items():
            listed = ", ".join(f"camera {c!r} {n}" for c, n in cams)
            if site in self.cameras:
                parts.append(f"site {site!r} (cameras not in its config): {listed}")
            else:
                parts.append(f"site {site!r} (no config): {listed}")
        return "; ".join(parts)

    def release(self) -> int:
        """Ingest the held records of every site and camera that has a config now, in batches
        that delete them as they write them; returns how many were taken in."""
        self.flush()  # earlier holds are stored, and the writer is free
        counts = self.writer.held_counts()
        pairs = [p for p in counts if p[1] in self.cameras.get(p[0], frozenset())]
        if not pairs:
            return 0
        taken = 0
        size = self.batch.max_messages
        for pair in pairs:  # a batch at a time: a long hold need not fit in memory
            while chunk := self.writer.held([pair], size):
                decoded = decode_records(
                    [h.record for h in chunk], self.cameras, self.namespace, self.clock(), None
                )
                still = {id(h.record) for h in decoded.held}
                batch = Batch(size, self.batch.max_age_s)
                batch.messages, batch.dead = decoded.messages, decoded.dead
                batch.released = [h for h in chunk if id(h.record) not in still]
                self._finish()
                self._inflight = (batch, self._submit_write(batch))
                self._finish()
                taken += len(batch.released)
                if len(batch.released) < size:  # the last of them (or none could go)
                    break
        for pair in pairs:
            self._held_by.pop(pair, None)
        log.info(
            "took in %d held records of %s: their config has arrived",
            taken,
            ", ".join(f"site {s!r} camera {c!r}" for s, c in pairs),
        )
        return taken

    def _submit_write(self, batch: Batch) -> Future[WriteResult]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        return self._executor.submit(self._write, batch)

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
                if self.tick is not None:
                    self.tick()
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
