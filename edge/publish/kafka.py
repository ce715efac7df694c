"""The edge's Kafka publisher: contract messages to the broker through a durable on-disk spool.

The only module of the edge that imports kafka-python.

How a message travels:

1. :meth:`KafkaPublisher.publish` encodes it and appends it to the spool (write-ahead; this never
   waits for the network and never fails because the broker is down).
2. One sender thread takes the oldest records from the spool, up to ``batch_max_records`` /
   ``batch_max_bytes``, sends them with an idempotent producer (``acks="all"``, compression,
   explicit partition = the default partitioner's choice for the camera key) and waits for the
   broker's answer to the whole batch before it sends anything newer (*stop and wait*). Each
   partition's share of a batch fits one producer batch, so the broker stores it all or nothing.
3. Records the broker acknowledged with an offset are done: the spool forgets them and remembers,
   per partition, the offset after the last one (``state.json``).

Exactly once, in order: every record carries the header ``footfall-spool`` =
``"<spool id>:<seq>"``. When any record of a batch has no definite outcome -- the connection broke,
the request timed out, or the broker answered "duplicate sequence number" (the idempotent
producer's retry answer, which kafka-python reports as success at offset -1, and which Tansu gives
after a crash even for data it never stored) -- the sender drops the producer, waits for the
broker, reads the batch's partitions back from the remembered offsets and re-sends, with a new
producer, exactly the records that are not there, in their order. Nothing newer was sent in the
meantime, so order holds. A process that stopped uncleanly is checked the same way when it
starts on the same spool.

When the broker is unreachable, one warning names the address; when it answers again, one line
says how many spooled messages are being drained.

TLS and SASL: the producer and the read-back consumer connect with one
:class:`~footfall.broker_security.BrokerSecurity` (env ``FOOTFALL_KAFKA_*`` unless one is passed);
the log lines name the protocol, never a password.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kafka_errors
from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd
from kafka.partitioner.default import murmur2

from edge.publish.record import OutgoingRecord, pack, unpack
from edge.publish.spool import FsyncPolicy, Spool
from footfall.broker_security import BrokerSecurity
from footfall.contract import Message

__all__ = ["SPOOL_HEADER", "KafkaPublisher", "best_compression"]

log = logging.getLogger(__name__)

SPOOL_HEADER: Final = "footfall-spool"
"""Record header ``"<spool id>:<seq>"``: lets the publisher find its own records on the broker."""

_CODECS: Final = {"zstd": has_zstd, "lz4": has_lz4, "snappy": has_snappy, "gzip": has_gzip}
_CODEC_PACKAGES: Final = {"zstd": "zstandard", "lz4": "lz4", "snappy": "python-snappy"}
_SILENCE_S: Final = 2.0
"""After this long without an answer the sender checks whether the broker's port still answers."""
_HOLE_WAIT_S: Final = 5.0
"""Read-back: fetches that stay empty this long below the high watermark mean the end."""
_REJECTED_ERRORS: Final = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidRecordError,
    kafka_errors.CorruptRecordError,
)


def best_compression() -> str:
    """The best compression codec whose library is installed: zstd, lz4, snappy, else gzip."""
    return next(name for name, available in _CODECS.items() if available())


class _BrokerUnavailable(Exception):
    """The broker did not answer (or not in time); ``str()`` says what failed."""


@dataclass
class _InFlight:
    """One spooled record inside the current batch."""

    seq: int
    record: OutgoingRecord
    partition: int | None = None
    done: bool = False
    sends: int = 0


@dataclass
class _Partitions:
    """Per topic-partition: the offset at or after which this spool's next records land."""

    next_offset: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def name(topic: str, partition: int) -> str:
        return f"{topic}:{partition}"

    def advance(self, topic: str, partition: int, offset: int) -> None:
        key = self.name(topic, partition)
        self.next_offset[key] = max(self.next_offset.get(key, 0), offset)

    def start(self, topic: str, partition: int) -> int | None:
        return self.next_offset.get(self.name(topic, partition))


class KafkaPublisher:
    """A :class:`edge.sink.Sink` that publishes contract messages to Kafka via a durable spool.

    Construction never touches the network: the sender thread connects in the background (with
    backoff) and until then messages wait in the spool under ``spool_dir``.

    Counters for metrics (read them at any time): :attr:`spooled`, :attr:`sent`,
    :attr:`dropped`, :attr:`spool_bytes`, :attr:`pending`, :attr:`resent`,
    :attr:`already_delivered`, :attr:`rejected`, :attr:`reconnects`, :attr:`connected`.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        spool_dir: Path | str,
        *,
        max_spool_bytes: int = 256 * 1024 * 1024,
        fsync: FsyncPolicy = "interval",
        fsync_interval_s: float = 1.0,
        compression: str = "auto",
        batch_max_records: int = 2000,
        batch_max_bytes: int = 256 * 1024,
        send_timeout_s: float = 15.0,
        close_timeout_s: float = 10.0,
        reconnect_backoff_max_s: float = 5.0,
        client_id: str = "footfall-edge",
        quiet_client_logs: bool = True,
        topic_namespace: str = "",
        security: BrokerSecurity | None = None,
    ) -> None:
        self.security = security if security is not None else BrokerSecurity.from_env()
        """TLS / SASL settings of both clients (the password never leaves them)."""
        codec = best_compression() if compression == "auto" else compression
        if codec not in _CODECS:
            raise ValueError(f"unknown compression {compression!r}; use auto, {', '.join(_CODECS)}")
        if not _CODECS[codec]():
            raise ValueError(
                f"compression {codec!r} needs the Python package {_CODEC_PACKAGES[codec]!r}; "
                "install it or use compression='gzip'"
            )
        if quiet_client_logs and logging.getLogger("kafka").level == logging.NOTSET:
            # kafka-python logs every failed reconnect at ERROR; this class says it once instead.
            logging.getLogger("kafka").setLevel(logging.CRITICAL)
        self.bootstrap_servers = bootstrap_servers
        self.compression = codec
        self.batch_max_records = batch_max_records
        self.batch_max_bytes = batch_max_bytes
        self.send_timeout_s = send_timeout_s
        self.close_timeout_s = close_timeout_s
        self.reconnect_backoff_max_s = reconnect_backoff_max_s
        self.client_id = client_id
        self.topic_namespace = topic_namespace
        """Prefix of the topic names (``"<namespace>.<topic>"``); empty: the contract's names."""

        self._spool = Spool(
            spool_dir, max_bytes=max_spool_bytes, fsync=fsync, fsync_interval_s=fsync_interval_s
        )
        meta = self._spool.meta
        self._partitions = _Partitions(dict(meta.get("offsets") or {}))
        # A process that stopped with a batch in flight may have stored part of it: check first.
        self._check_first = not meta.get("clean", True) and self._spool.pending > 0
        self._spool.set_meta(self._meta(clean=False))

        self.spooled = 0
        """Messages appended to the spool by this process."""
        self.sent = 0
        """Messages the broker acknowledged (this process)."""
        self.resent = 0
        """Messages sent again after an uncertain outcome (they were not on the broker)."""
        self.already_delivered = 0
        """Messages with an uncertain outcome that the read-back found on the broker."""
        self.rejected = 0
        """Messages the broker refused for good (e.g. too large); logged and skipped."""
        self.reconnects = 0
        """Times the broker answered again after being unreachable."""
        self.connected = False
        """Whether the last exchange with the broker succeeded."""

        self._producer: Any = None
        self._partition_counts: dict[str, int] = {}
        self._down_since: float | None = None
        self._unsettled = False  # a batch was handed to a producer and is not fully resolved
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="footfall-publisher", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ Sink

    def publish(self, message: Message) -> None:
        """Append the message to the spool; the sender thread delivers it in order."""
        if self._closed:
            raise RuntimeError("publish() on a closed publisher")
        self._spool.append(pack(OutgoingRecord.from_message(message, self.topic_namespace)))
        self.spooled += 1

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every spooled message is acknowledged by the broker, or ``timeout_s``.

        Whatever is not delivered by then stays in the spool on disk (synced now) and is sent
        later, or by the next process on the same spool.
        """
        self._spool.wait_drained(timeout_s)
        self._spool.sync()

    def close(self) -> None:
        """Flush (up to ``close_timeout_s``), stop the sender and close the spool."""
        if self._closed:
            return
        self.flush(self.close_timeout_s)
        self._closed = True
        self._stop.set()
        self._thread.join(self.send_timeout_s + 10.0)
        self._close_producer()
        left = self._spool.pending
        if left:
            log.warning(
                "publisher closed with %d messages the broker at %s has not taken within %g s; "
                "they stay in the spool %s and are sent on the next start with the same spool "
                "(or wait longer with --drain-timeout)",
                left,
                self.bootstrap_servers,
                self.close_timeout_s,
                self._spool.directory,
            )
        self._spool.set_meta(self._meta(clean=not self._unsettled))
        self._spool.close()

    def __enter__(self) -> KafkaPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ metrics

    @property
    def dropped(self) -> int:
        """Messages dropped unsent because the spool was over its byte limit."""
        return self._spool.dropped

    @property
    def spool_bytes(self) -> int:
        """Bytes the spool takes on disk."""
        return self._spool.size_bytes

    @property
    def pending(self) -> int:
        """Messages in the spool that the broker has not acknowledged yet."""
        return self._spool.pending

    @property
    def spool(self) -> Spool:
        return self._spool

    # ------------------------------------------------------------------ sender thread

    def _run(self) -> None:
        batch: list[_InFlight] = []
        check = self._check_first
        backoff = 0.25
        while True:
            if not batch:
                if self._stop.is_set():
                    return
                if not self._spool.wait(0.2):
                    continue
                batch = self._take_batch()
                if not batch:
                    continue
            try:
                self._connect()
                if check:
                    found = self._reconcile(batch)
                    batch = self._settle(batch)
                    # After an unclean stop, keep checking while earlier sends turn up.
                    check = self._check_first and found > 0
                    if not batch:
                        continue
                self._check_first = False
                check = not self._send(batch)
                batch = self._settle(batch)
                backoff = 0.25
            except _BrokerUnavailable as exc:
                self._went_down(str(exc))
                self._close_producer()
                check = check or self._unsettled
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, self.reconnect_backoff_max_s)
            except Exception:  # never let the sender die: log it, back off, try again
                log.exception("publisher: unexpected error; retrying in %.1f s", backoff)
                self._close_producer()
                check = check or self._unsettled
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, self.reconnect_backoff_max_s)

    def _take_batch(self) -> list[_InFlight]:
        batch = []
        records = self._spool.read(self.batch_max_records, self.batch_max_bytes)
        for record in records:
            try:
                batch.append(_InFlight(record.seq, unpack(record.payload)))
            except ValueError as exc:  # it passed its CRC, so something else wrote it
                log.error("spool record %d is not a publisher record: %s", record.seq, exc)
                self.rejected += 1
        if records and not batch:
            self._spool.ack(records[-1].seq + 1, self._meta(clean=False))
        return batch

    def _connect(self) -> None:
        if self._producer is not None:
            return
        try:
            request_timeout_ms = int(min(5.0, self.send_timeout_s / 2) * 1000)
            delivery_timeout_ms = int(self.send_timeout_s * 1000)
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id=self.client_id,
                enable_idempotence=True,
                acks="all",
                compression_type=self.compression,
                # Each partition's share of one spool batch must go out as one producer batch
                # (stored all or nothing), never as two requests one after the other: if the
                # first one's outcome is uncertain (a broker killed mid-request) the second would
                # land ahead of its re-send. So the producer never sends on its own (its linger
                # outlasts the whole batch) and _send's flush() sends everything at once; the
                # batch always fits ``batch_size``.
                linger_ms=delivery_timeout_ms - request_timeout_ms,
                batch_size=max(1024 * 1024, 2 * self.batch_max_bytes),
                max_request_size=max(2 * 1024 * 1024, 4 * self.batch_max_bytes),
                max_in_flight_requests_per_connection=1,
                request_timeout_ms=request_timeout_ms,
                delivery_timeout_ms=delivery_timeout_ms,
                max_block_ms=int(self.send_timeout_s * 1000),
                bootstrap_timeout_ms=3000,
                reconnect_backoff_max_ms=1000,
                **self.security.kafka_options(),
            )
        except kafka_errors.KafkaError as exc:
            raise _BrokerUnavailable(_describe(exc)) from None
        self._partition_counts.clear()

    def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        # A producer with requests in flight may complain on close: it is gone anyway.
        with contextlib.suppress(Exception):
            producer.close(timeout=0)

    def _partition(self, record: OutgoingRecord) -> int:
        """The partition kafka-python's default partitioner picks for the record's key."""
        count = self._partition_counts.get(record.topic)
        if count is None:
            try:
                partitions = self._producer.partitions_for(record.topic)
            except kafka_errors.KafkaError as exc:
                raise _BrokerUnavailable(
                    f"no metadata for topic {record.topic} ({_describe(exc)}); "
                    "does the topic exist? `footfall cloud check` creates the contract's topics, "
                    "`footfall cloud ingest --topic-namespace NS` the NS.* ones"
                ) from None
            if not partitions:
                raise _BrokerUnavailable(f"topic {record.topic} has no partitions")
            count = len(partitions)
            self._partition_counts[record.topic] = count
        return int(murmur2(record.key) & 0x7FFFFFFF) % count

    def _send(self, batch: list[_InFlight]) -> bool:
        """Send the batch's open records and wait; True if every outcome is definite."""
        open_records = [item for item in batch if not item.done]
        futures = []
        self._unsettled = True
        for item in open_records:
            item.partition = self._partition(item.record)
            header = f"{self._spool.spool_id}:{item.seq}".encode()
            try:
                future = self._producer.send(
                    item.record.topic,
                    key=item.record.key,
                    value=item.record.value,
                    partition=item.partition,
                    headers=[(SPOOL_HEADER, header)],
                )
            except _REJECTED_ERRORS as exc:
                self._reject(item, exc)
                future = None
            except kafka_errors.KafkaError as exc:
                raise _BrokerUnavailable(_describe(exc)) from None
            if item.sends:
                self.resent += 1
            item.sends += 1
            futures.append((item, future))
        deadline = time.monotonic() + self.send_timeout_s
        probed = False
        while True:
            wait_s = deadline - time.monotonic()
            if not probed:
                wait_s = min(wait_s, _SILENCE_S)
            try:
                self._producer.flush(timeout=max(0.0, wait_s))
                break
            except kafka_errors.KafkaError:  # unfinished futures say so below
                if time.monotonic() >= deadline:
                    break
            if not probed:
                # The producer retries by itself; say at once if the broker is gone.
                probed = True
                if not _tcp_reachable(self.bootstrap_servers):
                    self._went_down(f"no answer for {_SILENCE_S:.0f} s, connection refused")
        certain = True
        failure = None
        open_partitions: set[tuple[str, int | None]] = set()  # an earlier record is uncertain
        for item, future in futures:
            if future is None:
                continue
            key = (item.record.topic, item.partition)
            if not future.is_done:
                certain = False
                failure = failure or "no answer in time"
                open_partitions.add(key)
            elif future.succeeded():
                metadata = future.value
                if metadata.offset >= 0:
                    item.done = True
                    self.sent += 1
                    if key in open_partitions:
                        # Stored after a record whose outcome is uncertain: the read-back must
                        # still look from before that one, so the remembered offset stays put.
                        _order_broken(item)
                        continue
                    topic, offset = item.record.topic, metadata.offset
                    self._partitions.advance(topic, metadata.partition, offset + 1)
                else:  # "duplicate sequence number": maybe stored, maybe not (Tansu after a crash)
                    certain = False
                    open_partitions.add(key)
            elif isinstance(future.exception, _REJECTED_ERRORS):
                self._reject(item, future.exception)
            else:
                certain = False
                failure = failure or _describe(future.exception)
                open_partitions.add(key)
        if certain:
            self._unsettled = False
            self._came_back()
        elif failure is not None:
            raise _BrokerUnavailable(failure)
        else:
            self._close_producer()  # its sequence numbers no longer match what the broker has
        return certain

    def _reject(self, item: _InFlight, exc: BaseException) -> None:
        item.done = True
        self.rejected += 1
        log.error(
            "the broker refused a %d-byte message for %s for good (%s); skipped it",
            len(item.record.value),
            item.record.topic,
            _describe(exc),
        )

    def _settle(self, batch: list[_InFlight]) -> list[_InFlight]:
        """Acknowledge the batch's finished prefix in the spool; return the open remainder."""
        remaining = [item for item in batch if not item.done]
        up_to = remaining[0].seq if remaining else batch[-1].seq + 1
        self._spool.ack(up_to, self._meta(clean=False))
        if not remaining:
            self._unsettled = False
        return remaining

    def _meta(self, clean: bool) -> dict[str, Any]:
        return {"offsets": dict(self._partitions.next_offset), "clean": clean}

    # ------------------------------------------------------------------ read-back

    def _reconcile(self, batch: list[_InFlight]) -> int:
        """Mark the batch's open records that are already on the broker as done; return how many."""
        open_records = [item for item in batch if not item.done]
        for item in open_records:
            if item.partition is None:
                item.partition = self._partition(item.record)
        wanted = {(item.record.topic, item.partition) for item in open_records}
        found = self._read_back(wanted)  # type: ignore[arg-type]
        present = 0
        for item in open_records:
            if item.seq in found:
                item.done = True
                present += 1
        self.already_delivered += present
        _check_prefix(open_records)
        log.info(
            "checked %d unacknowledged messages against the broker: %d already there, "
            "%d to send again",
            len(open_records),
            present,
            len(open_records) - present,
        )
        self._unsettled = False
        return present

    def _read_back(self, partitions: Iterable[tuple[str, int]]) -> set[int]:
        """Seqs of this spool's records in ``partitions`` from the remembered offsets onwards."""
        tps = [TopicPartition(topic, partition) for topic, partition in sorted(partitions)]
        if not tps:
            return set()
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                client_id=f"{self.client_id}-readback",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                bootstrap_timeout_ms=3000,
                request_timeout_ms=10000,
                fetch_max_wait_ms=100,
                **self.security.kafka_options(),
            )
        except kafka_errors.KafkaError as exc:
            raise _BrokerUnavailable(_describe(exc)) from None
        found: set[int] = set()
        prefix = f"{self._spool.spool_id}:".encode()
        try:
            consumer.assign(tps)
            for tp in tps:
                start = self._partitions.start(tp.topic, tp.partition)
                if start is None:
                    consumer.seek_to_beginning(tp)
                else:
                    consumer.seek(tp, start)
            deadline = time.monotonic() + max(30.0, 2 * self.send_timeout_s)
            positions = {tp: -1 for tp in tps}
            moved_at = time.monotonic()
            while True:
                for records in consumer.poll(timeout_ms=200, max_records=10000).values():
                    for record in records:
                        for name, value in record.headers or ():
                            if name == SPOOL_HEADER and value.startswith(prefix):
                                found.add(int(value[len(prefix) :]))
                now = time.monotonic()
                current = {tp: consumer.position(tp) for tp in tps}
                if current != positions:
                    positions, moved_at = current, now
                # The high watermark comes with each fetch answer (Tansu's ListOffsets end
                # offset is wrong with S3 storage; the fetch's is right).
                behind = {tp: consumer.highwater(tp) for tp in tps}
                behind = {tp: end for tp, end in behind.items() if end is None or current[tp] < end}
                stuck = now - moved_at >= _HOLE_WAIT_S
                if not behind or (stuck and all(end is not None for end in behind.values())):
                    for tp, end in behind.items():
                        # Tansu, restarted after a crash, can count offsets it never stored:
                        # their fetch answers stay empty until later records exist.
                        log.warning(
                            "%s partition %d: the broker reports offsets up to %s but serves "
                            "nothing after %d; taking %d as the end",
                            tp.topic,
                            tp.partition,
                            end,
                            current[tp],
                            current[tp],
                        )
                    for tp in tps:
                        self._partitions.advance(tp.topic, tp.partition, current[tp])
                    return found
                if now > deadline:
                    raise _BrokerUnavailable("reading back the last sends took too long")
        except kafka_errors.KafkaError as exc:
            raise _BrokerUnavailable(_describe(exc)) from None
        finally:
            consumer.close()

    # ------------------------------------------------------------------ log lines

    def _went_down(self, reason: str) -> None:
        self.connected = False
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        log.warning(
            "Kafka broker at %s (%s) is unreachable (%s); spooling messages in %s (%d waiting) "
            "and retrying in the background",
            self.bootstrap_servers,
            self.security.describe(),
            reason,
            self._spool.directory,
            self._spool.pending,
        )

    def _came_back(self) -> None:
        self.connected = True
        if self._down_since is None:
            return
        down_s = time.monotonic() - self._down_since
        self._down_since = None
        self.reconnects += 1
        log.info(
            "reconnected to Kafka broker at %s after %.1f s, draining %d spooled messages",
            self.bootstrap_servers,
            down_s,
            self._spool.pending,
        )


def _tcp_reachable(bootstrap_servers: str, timeout_s: float = 1.0) -> bool:
    """Whether any of the bootstrap addresses accepts a TCP connection."""
    for address in bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text and not text.startswith(name) else (text or name)


def _order_broken(item: _InFlight) -> None:
    log.error(
        "the broker stored spool record %d of %s (partition %s) while an earlier record's outcome "
        "is uncertain: per-camera order on that partition may be broken",
        item.seq,
        item.record.topic,
        item.partition,
    )


def _check_prefix(items: list[_InFlight]) -> None:
    """Per partition, the records found on the broker must come before those not found."""
    seen_missing: set[tuple[str, int | None]] = set()
    for item in items:
        key = (item.record.topic, item.partition)
        if not item.done:
            seen_missing.add(key)
        elif key in seen_missing:
            log.error(
                "the broker holds spool record %d of %s but not an earlier one: per-camera "
                "order on partition %s is broken there",
                item.seq,
                item.record.topic,
                item.partition,
            )
