"""The ingest chain with its in-memory twins: offsets are committed only after the write."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from cloud.ingest.decode import Held
from cloud.ingest.pipeline import IngestPipeline
from cloud.ingest.writer import HeldCounts, WriteResult
from cloud.transport.memory import MemoryDeadLetters, MemorySource
from cloud.transport.types import Record
from footfall.contract import FrameObservations, Message, encode, topics

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def frame(i: int, camera: str = "cam-a", site: str = "demo") -> FrameObservations:
    return FrameObservations(
        site_id=site,
        camera_id=camera,
        node_id="n1",
        run_id="ab" * 8,
        frame_index=i,
        captured_at=T0 + timedelta(seconds=i),
        image_width=640,
        image_height=480,
        tracks=(),
    )


class RecordingWriter:
    def __init__(self, source: MemorySource, fail_at: int | None = None) -> None:
        self.source = source
        self.batches: list[list[Message]] = []
        self.committed_before_write: list[dict[tuple[str, int], int]] = []
        self.fail_at = fail_at
        self.held_store: list[Held] = []
        """The held_record table: stored in the transaction of the batch that holds them."""

    def write(
        self,
        messages: Sequence[Message],
        held: Sequence[Held] = (),
        released: Sequence[Held] = (),
    ) -> WriteResult:
        if self.fail_at is not None and len(self.batches) == self.fail_at:
            raise RuntimeError("database went away")
        self.committed_before_write.append(dict(self.source.committed))
        self.batches.append(list(messages))
        gone = {id(h.record) for h in released}
        self.held_store = [h for h in self.held_store if id(h.record) not in gone] + list(held)
        return WriteResult(frames=len(messages))

    def held_counts(self) -> HeldCounts:
        counts: HeldCounts = {}
        for h in self.held_store:
            counts[h.site_id, h.camera_id] = counts.get((h.site_id, h.camera_id), 0) + 1
        return counts

    def held(self, pairs: object, limit: int | None = None) -> list[Held]:
        wanted = set(pairs)  # type: ignore[call-overload]
        found = [h for h in self.held_store if (h.site_id, h.camera_id) in wanted]
        return found[:limit]


def records(values: list[bytes]) -> list[Record]:
    return [Record(topics.OBSERVATIONS_TOPIC, 0, i, b"demo/cam-a", v) for i, v in enumerate(values)]


def pipeline(
    source: MemorySource, writer: RecordingWriter, dead: MemoryDeadLetters
) -> IngestPipeline:
    return IngestPipeline(source, writer, dead, {"demo": frozenset({"cam-a"})}, 10, 60.0)


def test_batches_by_size_and_commits_after_each_write() -> None:
    source = MemorySource(records([encode(frame(i)) for i in range(25)]), per_poll=5)
    writer = RecordingWriter(source)
    dead = MemoryDeadLetters()
    stats = pipeline(source, writer, dead).run(threading.Event(), idle_exit_s=0.0)
    assert [len(b) for b in writer.batches] == [10, 10, 5]
    assert writer.committed_before_write == [
        {},
        {(topics.OBSERVATIONS_TOPIC, 0): 10},
        {(topics.OBSERVATIONS_TOPIC, 0): 20},
    ]
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 25}
    assert stats.records == 25 and dead.letters == []


class RefusingSource(MemorySource):
    """A source whose group rebalanced: every offset commit is refused."""

    def commit(self, offsets: dict[tuple[str, int], int]) -> bool:
        return False


def test_refused_commits_are_counted_and_reported_in_the_stop_line() -> None:
    source = RefusingSource(records([encode(frame(i)) for i in range(25)]), per_poll=5)
    writer = RecordingWriter(source)
    stats = pipeline(source, writer, MemoryDeadLetters()).run(threading.Event(), idle_exit_s=0.0)
    assert [len(b) for b in writer.batches] == [10, 10, 5]  # written all the same
    assert stats.commits_refused == 3 and source.committed == {}
    assert stats.summary() == (
        "records=25 frames=25 observations=0 duplicates=0 dead_letters=0 dead_letters_unsent=0 "
        "dead_letters_resent=0 held=0 released=0 commits_refused=3"
    )


def test_invalid_records_become_dead_letters_without_stopping_the_partition() -> None:
    values = [encode(frame(0)), b"{oops", encode(frame(1)), encode(frame(2))]
    source = MemorySource(records(values))
    writer = RecordingWriter(source)
    dead = MemoryDeadLetters()
    pipeline(source, writer, dead).run(threading.Event(), idle_exit_s=0.0)
    assert [m.frame_index for b in writer.batches for m in b] == [0, 1, 2]  # type: ignore[union-attr]
    assert [d.record.offset for d in dead.letters] == [1]
    assert "not valid JSON" in dead.letters[0].reason
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 4}


def test_records_of_unknown_sites_and_cameras_are_held_loudly_never_dead_lettered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The 16,059 records of `footfall simulate --publish` used to be dead-lettered (their site
    # was not configured) and their offsets committed: the stream was gone.
    values = [
        encode(frame(0)),
        encode(frame(1, site="riverside-mall", camera="gf-entrance")),
        encode(frame(2, camera="cam-z")),
        encode(frame(3, site="riverside-mall", camera="gf-entrance")),
    ]
    source = MemorySource(records(values))
    writer = RecordingWriter(source)
    dead = MemoryDeadLetters()
    pipe = IngestPipeline(
        source,
        writer,
        dead,
        {"demo": frozenset({"cam-a"})},
        10,
        60.0,
        hold_fix="add the site's file to the sites folder /x",
    )
    with caplog.at_level(logging.WARNING, "footfall.cloud.ingest"):
        stats = pipe.run(threading.Event(), idle_exit_s=0.0)
    assert dead.letters == []
    assert [m.frame_index for b in writer.batches for m in b] == [0]  # type: ignore[union-attr]
    assert writer.held_counts() == {("demo", "cam-z"): 1, ("riverside-mall", "gf-entrance"): 2}
    # stored before the commit, in the batch's transaction
    assert writer.committed_before_write == [{}]
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 4}
    assert stats.held == 3 and stats.dead_letters == 0
    assert "held=3 released=0" in stats.summary()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line == (
        "holding 3 records (none lost, none ingested yet) of site 'demo' (cameras not in its "
        "config): camera 'cam-z' 1; site 'riverside-mall' (no config): camera 'gf-entrance' 2: "
        "add the site's file to the sites folder /x"
    )


def test_held_records_are_ingested_once_when_their_config_arrives() -> None:
    values = [encode(frame(i, site="mall", camera="c1" if i % 2 else "c2")) for i in range(25)]
    source = MemorySource(records(values), per_poll=5)
    writer = RecordingWriter(source)
    pipe = IngestPipeline(
        source, writer, MemoryDeadLetters(), {"demo": frozenset({"cam-a"})}, 10, 60.0
    )
    pipe.run(threading.Event(), idle_exit_s=0.0)
    assert sum(writer.held_counts().values()) == 25 and not any(writer.batches)
    # Camera c1 of site "mall" gets a config: its held records come in; c2's stay held.
    pipe.cameras = {"demo": frozenset({"cam-a"}), "mall": frozenset({"c1"})}
    assert pipe.release() == 12
    written = sorted(m.frame_index for b in writer.batches for m in b)  # type: ignore[union-attr]
    assert written == list(range(1, 25, 2))
    assert [len(b) for b in writer.batches if b] == [10, 2]  # a batch at a time
    assert writer.held_counts() == {("mall", "c2"): 13}
    assert pipe.release() == 0  # taken in once: nothing is written twice
    pipe.cameras = {"mall": frozenset({"c1", "c2"})}
    assert pipe.release() == 13
    written = sorted(m.frame_index for b in writer.batches for m in b)  # type: ignore[union-attr]
    assert written == list(range(25)) and writer.held_counts() == {}
    assert pipe.stats.held == 25 and pipe.stats.released == 25


def test_a_failed_write_commits_nothing() -> None:
    source = MemorySource(records([encode(frame(i)) for i in range(15)]))
    writer = RecordingWriter(source, fail_at=0)
    with pytest.raises(RuntimeError):
        pipeline(source, writer, MemoryDeadLetters()).run(threading.Event(), idle_exit_s=0.0)
    assert source.committed == {}


def test_analytics_run_off_the_polling_thread_and_their_failure_surfaces() -> None:
    # A slow derivation pass must not hold up polling and offset commits (a member that stops
    # polling is dropped from its group); a failed pass still stops ingest.
    source = MemorySource(records([encode(frame(i)) for i in range(30)]), per_poll=10)
    writer = RecordingWriter(source)
    release = threading.Event()
    passes: list[str] = []

    def slow_pass() -> None:
        passes.append(threading.current_thread().name)
        release.wait(10)

    pipe = IngestPipeline(
        source, writer, MemoryDeadLetters(), {"demo": frozenset({"cam-a"})}, 10, 60.0, slow_pass
    )
    for _ in range(6):
        pipe.step(0.0)
    pipe.flush()
    # All three batches written and committed while the first pass still runs, alone.
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 30}
    assert passes and all(name.startswith("ingest-analytics") for name in passes)
    assert len(passes) == 1
    release.set()
    pipe.run(threading.Event(), idle_exit_s=0.0)

    def broken_pass() -> None:
        raise RuntimeError("analytics database went away")

    source = MemorySource(records([encode(frame(i)) for i in range(30)]), per_poll=10)
    pipe = IngestPipeline(
        source,
        RecordingWriter(source),
        MemoryDeadLetters(),
        {"demo": frozenset({"cam-a"})},
        10,
        60.0,
        broken_pass,
    )
    with pytest.raises(RuntimeError, match="analytics database went away"):
        pipe.run(threading.Event(), idle_exit_s=0.0)


def test_a_failing_dead_letter_sink_is_logged_counted_and_never_blocks_the_commit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # kafka-python refuses a record over its max_request_size before sending it; that used to
    # crash ingest before the offset commit, and every restart died on the same record.
    values = [encode(frame(0)), b"x" * 2_000_000, encode(frame(1)), b"{oops", encode(frame(2))]
    source = MemorySource(records(values))
    writer = RecordingWriter(source)
    dead = MemoryDeadLetters(error=RuntimeError("MessageSizeTooLargeError: 2000123 bytes"))
    with caplog.at_level(logging.ERROR, "footfall.cloud.ingest"):
        stats = pipeline(source, writer, dead).run(threading.Event(), idle_exit_s=0.0)
    assert [m.frame_index for b in writer.batches for m in b] == [0, 1, 2]  # type: ignore[union-attr]
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 5}
    assert stats.dead_letters == 2 and stats.dead_letters_unsent == 2
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("could not publish 2 dead letters (the first from ")
    assert "MessageSizeTooLargeError" in line and "committed their offsets" in line


def test_messages_stamped_ahead_of_the_clock_become_dead_letters() -> None:
    now = T0 + timedelta(seconds=100)
    values = [encode(frame(0)), encode(frame(100 + 299)), encode(frame(100 + 301))]
    source = MemorySource(records(values))
    writer = RecordingWriter(source)
    dead = MemoryDeadLetters()
    pipe = IngestPipeline(
        source,
        writer,
        dead,
        {"demo": frozenset({"cam-a"})},
        10,
        60.0,
        max_future_skew_s=300.0,
        clock=lambda: now,
    )
    pipe.run(threading.Event(), idle_exit_s=0.0)
    assert [m.frame_index for b in writer.batches for m in b] == [0, 399]  # type: ignore[union-attr]
    (letter,) = dead.letters
    assert letter.record.offset == 2
    assert letter.reason == (
        "frame.captured_at: 2026-11-20T09:06:41Z is 301 s ahead of ingest's clock "
        "(2026-11-20T09:01:40Z), more than the 300 s allowed; sync the edge node's clock (NTP) "
        "or, if ingest's clock is behind, fix that one"
    )
    assert source.committed == {(topics.OBSERVATIONS_TOPIC, 0): 3}
