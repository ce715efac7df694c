"""The cloud's adapter around kafka-python: topic set-up, the ingest source, dead letters.

Only this module imports ``kafka``. Errors a user can cause (broker down, wrong address) become
``BrokerError`` with one sentence naming the address and the fix.

Every client here connects with the TLS / SASL settings of :mod:`footfall.broker_security`
(env ``FOOTFALL_KAFKA_*``, or a :class:`~footfall.broker_security.BrokerSecurity` passed in).

Dead letters (:class:`KafkaDeadLetters`) are small whatever the record was (key and value cut,
with the source topic, partition, offset, original size and sha256 in headers: see
:func:`dead_letter_record`), a failure to publish one is logged and counted instead of raised,
and none is published twice: all letters of one source partition go to one dead-letter
partition in order, so the highest source offset found there (read at start and after each
rebalance) marks the records that already have theirs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Final

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import (
    CommitFailedError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
)
from kafka.structs import OffsetAndMetadata, TopicPartition

from cloud.transport.types import DeadLetter, DeadLetterResult, Offsets, Record
from footfall.broker_security import BrokerSecurity
from footfall.contract import Message, encode, topics
from footfall.errors import UserError

INGEST_TOPICS: Final = (topics.OBSERVATIONS_TOPIC, topics.TRACKLETS_TOPIC, topics.HEARTBEATS_TOPIC)

log = logging.getLogger("footfall.cloud.bus")

FETCH_MAX_BYTES: Final = 64 * 1024 * 1024
"""Ingest fetches up to this much per partition and per fetch (records of 10 MB included)."""


class _ClientErrorsOnOneLine(logging.Filter):
    """kafka-python logs a dropped connection with its whole traceback (``log.exception`` in
    ``kafka.net``), then reconnects on its own: keep the sentence and the error, not the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("kafka") and record.exc_info and record.exc_info[1]:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def client_errors_on_one_line() -> None:
    """Install :class:`_ClientErrorsOnOneLine` on the root logger's handlers (call after
    ``logging.basicConfig``); records of child loggers pass handler filters, not logger ones."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _ClientErrorsOnOneLine) for f in handler.filters):
            handler.addFilter(_ClientErrorsOnOneLine())


class BrokerError(UserError, RuntimeError):
    """The broker cannot be reached or refused a request."""


def _security(security: BrokerSecurity | None) -> BrokerSecurity:
    """The given settings, else those of the environment (``FOOTFALL_KAFKA_*``)."""
    return security if security is not None else BrokerSecurity.from_env()


def unreachable(bootstrap_servers: str, security: BrokerSecurity) -> BrokerError:
    """The error for a broker that did not answer (or not the way the settings expect)."""
    if security.security_protocol == "PLAINTEXT":
        return BrokerError(
            f"No Kafka-protocol broker answers at {bootstrap_servers}; start one with "
            "`footfall stack up` or pass the right address with --bootstrap-servers."
        )
    return BrokerError(
        f"No Kafka-protocol broker answers at {bootstrap_servers} over "
        f"{security.describe()}; check the address, that the broker (or its TLS proxy) "
        "serves this protocol there, and the FOOTFALL_KAFKA_* settings (CA file, user, "
        "password)."
    )


def _admin(
    bootstrap_servers: str, timeout_ms: int, security: BrokerSecurity | None = None
) -> KafkaAdminClient:
    secure = _security(security)
    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="footfall-cloud-admin",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,  # kafka-python's default waits 30 s
            **secure.kafka_options(),
        )
    except KafkaError:  # kafka-python 3 raises KafkaTimeoutError("Unable to bootstrap …")
        raise unreachable(bootstrap_servers, secure) from None


def list_topics(
    bootstrap_servers: str, timeout_ms: int = 10_000, security: BrokerSecurity | None = None
) -> set[str]:
    """Names of the topics the broker knows."""
    admin = _admin(bootstrap_servers, timeout_ms, security)
    try:
        return set(admin.list_topics())
    except KafkaError as exc:
        raise BrokerError(
            f"The broker at {bootstrap_servers} failed to list topics: {exc}"
        ) from exc
    finally:
        admin.close()


def topic_name(name: str, namespace: str = "") -> str:
    """A contract topic name inside a namespace (``"<ns>.<topic>"``; no namespace: the name)."""
    return f"{namespace}.{name}" if namespace else name


def ensure_topics(
    bootstrap_servers: str,
    partitions: int = topics.RECOMMENDED_PARTITIONS,
    timeout_ms: int = 10_000,
    namespace: str = "",
    extra_topics: Sequence[str] = (),
    security: BrokerSecurity | None = None,
) -> list[str]:
    """Create the contract's topics (and ``extra_topics``) that do not exist yet; returns the
    ones created."""
    admin = _admin(bootstrap_servers, timeout_ms, security)
    try:
        existing = set(admin.list_topics())
        names = [topic_name(t, namespace) for t in (*topics.ALL_TOPICS, *extra_topics)]
        wanted = [name for name in names if name not in existing]
        created = []
        for name in wanted:
            try:
                admin.create_topics(
                    [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    except KafkaError as exc:
        raise BrokerError(
            f"The broker at {bootstrap_servers} refused to create topics: {exc}"
        ) from exc
    finally:
        admin.close()


class KafkaSource:
    """The ingest transport: a consumer-group member on the contract topics.

    Auto-commit is off; offsets are committed by :meth:`commit` only, after the database write.

    A member whose group membership has not settled (no partitions, not a stable member) for
    ``unsettled_warning_s`` logs one warning per episode: Tansu 0.6 can hold a group's rebalance
    for minutes after a member died in the middle of one.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        topic_names: Sequence[str] = INGEST_TOPICS,
        max_poll_records: int = 2000,
        session_timeout_ms: int = 6000,
        auto_offset_reset: str = "earliest",
        unsettled_warning_s: float = 60.0,
        security: BrokerSecurity | None = None,
    ) -> None:
        secure = _security(security)
        self._revoke: Callable[[], None] | None = None
        self._group_id = group_id
        self._unsettled_warning_s = unsettled_warning_s
        self._unsettled_since: float | None = time.monotonic()
        self._warned = False
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap_servers,
                group_id=group_id,
                client_id="footfall-cloud-ingest",
                enable_auto_commit=False,
                auto_offset_reset=auto_offset_reset,
                max_poll_records=max_poll_records,
                session_timeout_ms=session_timeout_ms,
                heartbeat_interval_ms=max(500, session_timeout_ms // 3),
                # Whole records of any size the broker takes (it accepts records far over 1 MB;
                # one that could not be fetched would stop its partition for good).
                fetch_max_bytes=FETCH_MAX_BYTES,
                max_partition_fetch_bytes=FETCH_MAX_BYTES,
                **secure.kafka_options(),
            )
        except KafkaError:
            raise unreachable(bootstrap_servers, secure) from None
        self._consumer.subscribe(list(topic_names), listener=_Listener(self))

    def poll(self, timeout_s: float) -> list[Record]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        out: list[Record] = []
        for records in batches.values():
            for r in records:
                out.append(Record(r.topic, r.partition, r.offset, r.key, r.value))
        self._watch(bool(out))
        return out

    def _settled(self) -> bool:
        """Holds partitions, or is a stable member (more members than partitions: none)."""
        if self._consumer.assignment():
            return True
        coordinator = getattr(self._consumer, "_coordinator", None)
        stable = getattr(coordinator, "stable", None)
        return bool(stable()) if callable(stable) else True

    def _watch(self, got_records: bool) -> None:
        if got_records or self._settled():
            self._unsettled_since = None
            self._warned = False
            return
        now = time.monotonic()
        if self._unsettled_since is None:
            self._unsettled_since = now
        elif not self._warned and now - self._unsettled_since > self._unsettled_warning_s:
            self._warned = True
            log.warning(
                "consumer group %s has not assigned partitions for %.0f s; the broker may be "
                "waiting for a member that died; check `footfall cloud check` and the broker log",
                self._group_id,
                now - self._unsettled_since,
            )

    def assigned(self) -> bool:
        return bool(self._consumer.assignment())

    def commit(self, offsets: Offsets) -> bool:
        payload = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in offsets.items()
        }
        try:
            self._consumer.commit(payload)
        except CommitFailedError:
            return False
        return True

    def on_revoke(self, handler: Callable[[], None]) -> None:
        self._revoke = handler

    def revoked(self) -> None:
        if self._revoke is not None:
            self._revoke()

    def close(self) -> None:
        self._consumer.close(autocommit=False)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, source: KafkaSource) -> None:
        self.source = source

    def on_partitions_revoked(self, revoked: object) -> None:
        self.source.revoked()

    def on_partitions_assigned(self, assigned: object) -> None:
        pass


DEADLETTER_PARTITION_HEADER: Final = "footfall-source-partition"
"""Dead-letter header: the partition the record was consumed from (decimal, UTF-8)."""
DEADLETTER_OFFSET_HEADER: Final = "footfall-source-offset"
"""Dead-letter header: the record's offset in that partition (decimal, UTF-8)."""
DEADLETTER_SIZE_HEADER: Final = "footfall-original-size"
"""Dead-letter header: the original value's size in bytes (decimal; ``-1``: no value)."""
DEADLETTER_SHA256_HEADER: Final = "footfall-sha256"
"""Dead-letter header: hex sha256 of the original value (absent when it had none)."""
DEADLETTER_TRUNCATED_HEADER: Final = "footfall-truncated"
"""Dead-letter header, present only when something was cut: ``key``, ``value`` or both."""

DEADLETTER_MAX_VALUE_BYTES: Final = 64 * 1024
"""A dead letter keeps at most this much of the original value (the sha256 and size say what
the whole was), far below the producer's 1 MiB ``max_request_size``."""
DEADLETTER_MAX_KEY_BYTES: Final = 1024
DEADLETTER_MAX_REASON_CHARS: Final = 2000


def dead_letter_record(
    letter: DeadLetter,
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """The dead-letter record of ``letter``: (key, value, headers), small whatever the input.

    The value and key are the original bytes, cut to :data:`DEADLETTER_MAX_VALUE_BYTES` and
    :data:`DEADLETTER_MAX_KEY_BYTES`; the headers say where the record came from, the reason,
    its original size and sha256, and what was cut.
    """
    record = letter.record
    value, key = record.value, record.key
    cut = []
    if key is not None and len(key) > DEADLETTER_MAX_KEY_BYTES:
        key, cut = key[:DEADLETTER_MAX_KEY_BYTES], ["key"]
    headers = [
        (topics.DEADLETTER_REASON_HEADER, letter.reason[:DEADLETTER_MAX_REASON_CHARS].encode()),
        (topics.DEADLETTER_TOPIC_HEADER, record.topic.encode()),
        (DEADLETTER_PARTITION_HEADER, str(record.partition).encode()),
        (DEADLETTER_OFFSET_HEADER, str(record.offset).encode()),
        (DEADLETTER_SIZE_HEADER, str(-1 if value is None else len(value)).encode()),
    ]
    if value is not None:
        headers.append((DEADLETTER_SHA256_HEADER, hashlib.sha256(value).hexdigest().encode()))
        if len(value) > DEADLETTER_MAX_VALUE_BYTES:
            value = value[:DEADLETTER_MAX_VALUE_BYTES]
            cut.append("value")
    if cut:
        headers.append((DEADLETTER_TRUNCATED_HEADER, ",".join(cut).encode()))
    return key, value, headers


def dead_letter_source(headers: Sequence[tuple[str, bytes]]) -> tuple[str, int, int] | None:
    """(source topic, partition, offset) of a dead-letter record; None if it does not say."""
    found = dict(headers)
    try:
        return (
            found[topics.DEADLETTER_TOPIC_HEADER].decode(),
            int(found[DEADLETTER_PARTITION_HEADER]),
            int(found[DEADLETTER_OFFSET_HEADER]),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return None


class KafkaDeadLetters:
    """Publishes dead letters (see :func:`dead_letter_record`), never one twice.

    **No repeats after a restart.** Every letter of one source partition goes to one
    partition of the dead-letter topic (chosen from a CRC-32 of ``"<topic>/<partition>"``,
    not from the key, which stays the original one), in order (one request in flight), and the
    pipeline publishes a batch's letters before committing its offsets. So the letters of a
    source partition on the topic always end with those of the last batch that was processed,
    committed or not, and the highest source offset on the topic says which records already
    have their letter. At the first publish, and at the first after partitions may have moved
    between consumers (:meth:`partitions_moved`, called by the pipeline at every rebalance),
    this reads what the topic gained since it last looked (the first time: the last
    ``lookback`` records of each partition, which must be at least one batch; more are read if
    the broker's end offset is off), and it skips letters at or below that offset. A process
    restarted after a crash (or a group member handed the partitions of one that died) re-reads
    the uncommitted batch and so does not repeat its letters. Between rebalances nobody else
    writes letters for this consumer's partitions, so it need not look. A record whose letter
    failed to publish and that is delivered again gets its letter then, unless a later record
    of its partition already has one.

    **Never stuck.** A letter the producer refuses (size, broker error, timeout) is logged and
    counted as failed; the pipeline commits the offsets regardless.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        namespace: str = "",
        lookback: int = 10_000,
        timeout_s: float = 30.0,
        security: BrokerSecurity | None = None,
    ) -> None:
        self._servers = bootstrap_servers
        self._client_options = _security(security).kafka_options()
        self._topic = topic_name(topics.DEADLETTER_TOPIC, namespace)
        self._lookback = lookback
        self._timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._reader: KafkaConsumer | None = None
        self.highest: dict[tuple[str, int], int] = {}
        """(source topic, partition) → the highest source offset on the dead-letter topic."""
        self._moved = True

    def partitions_moved(self) -> None:
        self._moved = True

    def send(self, letters: Sequence[DeadLetter]) -> DeadLetterResult:
        producer = self._connect()
        if self._moved:
            self._catch_up()
            self._moved = False
        partitions = sorted(producer.partitions_for(self._topic) or {0})
        pending = []
        already = failed = 0
        for letter in letters:
            record = letter.record
            source = (record.topic, record.partition)
            if record.offset <= self.highest.get(source, -1):
                already += 1
                continue
            key, value, headers = dead_letter_record(letter)
            target = partitions[
                zlib.crc32(f"{record.topic}/{record.partition}".encode()) % len(partitions)
            ]
            try:
                future = producer.send(
                    self._topic, key=key, value=value, headers=headers, partition=target
                )
            except KafkaError as exc:
                failed += 1
                self._lost(letter, exc)
                continue
            pending.append((letter, future))
        with contextlib.suppress(KafkaError):  # the futures still open say which failed
            producer.flush(timeout=self._timeout_s)
        sent = 0
        for letter, future in pending:
            if future.succeeded():
                sent += 1
                source = (letter.record.topic, letter.record.partition)
                self.highest[source] = max(self.highest.get(source, -1), letter.record.offset)
            else:
                failed += 1
                self._lost(letter, future.exception or KafkaTimeoutError("no answer in time"))
        return DeadLetterResult(sent=sent, already_sent=already, failed=failed)

    def _lost(self, letter: DeadLetter, exc: BaseException) -> None:
        record = letter.record
        log.error(
            "could not publish the dead letter of %s partition %d offset %d (%d bytes) to %s: "
            "%s: %s; skipped it, so check the broker and the topic",
            record.topic,
            record.partition,
            record.offset,
            -1 if record.value is None else len(record.value),
            self._topic,
            type(exc).__name__,
            exc,
        )

    def _connect(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._servers,
                client_id="footfall-cloud-deadletter",
                acks="all",
                linger_ms=5,
                compression_type="gzip",
                max_in_flight_requests_per_connection=1,  # in order, also across retries
                request_timeout_ms=int(self._timeout_s * 1000),
                max_block_ms=int(self._timeout_s * 1000),
                **self._client_options,
            )
        return self._producer

    def _catch_up(self) -> None:
        """Read the dead-letter topic up to its end; remember the highest source offsets."""
        reader = self._reader
        if reader is None:
            reader = KafkaConsumer(
                bootstrap_servers=self._servers,
                client_id="footfall-cloud-deadletter-reader",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=4 * 1024 * 1024,
                request_timeout_ms=int(self._timeout_s * 1000),
                **self._client_options,
            )
            tps = [
                TopicPartition(self._topic, p)
                for p in sorted(reader.partitions_for_topic(self._topic) or ())
            ]
            reader.assign(tps)
            # Only a hint (Tansu's end offsets can be off with S3 storage): reading from too
            # early costs time, and from beyond the end falls back to the beginning.
            begin, end = reader.beginning_offsets(tps), reader.end_offsets(tps)
            for tp in tps:
                reader.seek(tp, max(begin[tp], end[tp] - self._lookback))
            self._reader = reader
        _read_to_end(reader, self._timeout_s, self._note)

    def _note(self, headers: Sequence[tuple[str, bytes]]) -> None:
        source = dead_letter_source(headers)
        if source is not None:
            topic, partition, offset = source
            key = (topic, partition)
            self.highest[key] = max(self.highest.get(key, -1), offset)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
        if self._reader is not None:
            self._reader.close()


_HOLE_WAIT_S: Final = 5.0
"""Reading to the end: a position stuck this long below the high watermark is the end (Tansu
can count offsets it never stored; fetches skip them only once later records exist)."""


def _read_to_end(
    consumer: KafkaConsumer, timeout_s: float, note: Callable[[Sequence[tuple[str, bytes]]], None]
) -> None:
    """Poll the assigned partitions until each reaches the high watermark of the fetch answers
    (Tansu's ListOffsets end offset is wrong with S3 storage; the fetch's is right)."""
    tps = list(consumer.assignment())
    deadline = time.monotonic() + timeout_s
    positions: dict[TopicPartition, int] = {}
    moved_at = time.monotonic()
    while tps:
        for records in consumer.poll(timeout_ms=200, max_records=10_000).values():
            for record in records:
                note(record.headers or ())
        now = time.monotonic()
        current = {tp: consumer.position(tp) for tp in tps}
        if current != positions:
            positions, moved_at = current, now
        ends = {tp: consumer.highwater(tp) for tp in tps}
        behind = [tp for tp in tps if ends[tp] is None or current[tp] < ends[tp]]
        if not behind:
            return
        if now - moved_at >= _HOLE_WAIT_S and all(ends[tp] is not None for tp in behind):
            return
        if now > deadline:
            raise KafkaTimeoutError(
                f"reading the dead-letter topic {tps[0].topic} took over {timeout_s:.0f} s"
            )


class MessagePublisher:
    """Publishes contract messages to their topics, keyed by camera (the simulator's and the
    load generator's producer: batched, uncompressed, acks from the leader)."""

    def __init__(
        self, bootstrap_servers: str, namespace: str = "", security: BrokerSecurity | None = None
    ) -> None:
        self._namespace = namespace
        secure = _security(security)
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap_servers,
                client_id="footfall-simulate",
                acks=1,
                linger_ms=20,
                batch_size=1024 * 1024,
                max_request_size=8 * 1024 * 1024,
                **secure.kafka_options(),
            )
        except KafkaError:
            raise unreachable(bootstrap_servers, secure) from None
        self.sent = 0
        self.bytes = 0

    def send(self, messages: Sequence[Message]) -> None:
        for msg in messages:
            value = encode(msg)
            self._producer.send(
                topic_name(topics.topic_for(msg), self._namespace),
                key=topics.partition_key(msg),
                value=value,
            )
            self.bytes += len(value)
        self.sent += len(messages)

    def flush(self, timeout_s: float = 120.0) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self) -> None:
        self._producer.flush(timeout=120)
        self._producer.close(timeout=10)


class ConfirmedPublisher(MessagePublisher):
    """A :class:`MessagePublisher` whose :meth:`confirm` returns only once the broker has
    every message sent since the last confirm (acknowledged by the leader), or raises
    :class:`BrokerError`: for a process that commits its input only after its output is stored
    (``footfall cloud deepstream-bridge``)."""

    def __init__(self, bootstrap_servers: str, namespace: str = "") -> None:
        super().__init__(bootstrap_servers, namespace)
        self._servers = bootstrap_servers
        self._pending: list[object] = []

    def send(self, messages: Sequence[Message]) -> None:
        for msg in messages:
            value = encode(msg)
            future = self._producer.send(
                topic_name(topics.topic_for(msg), self._namespace),
                key=topics.partition_key(msg),
                value=value,
            )
            self._pending.append(future)
            self.bytes += len(value)
        self.sent += len(messages)

    def confirm(self, timeout_s: float = 120.0) -> None:
        self._producer.flush(timeout=timeout_s)
        pending, self._pending = self._pending, []
        for future in pending:
            try:
                future.get(timeout=timeout_s)  # type: ignore[attr-defined]
            except KafkaError as exc:
                raise BrokerError(
                    f"The broker at {self._servers} did not store a message: {exc}; the input "
                    "was not committed and is read again on restart"
                ) from exc
