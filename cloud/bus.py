"""The cloud's adapter around kafka-python: topic set-up, the ingest source, dead letters.

Only this module imports ``kafka``. Errors a user can cause (broker down, wrong address) become
``BrokerError`` with one sentence naming the address and the fix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Final

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from cloud.ingest.records import DeadLetter, Offsets, Record
from footfall.contract import Message, encode, topics

INGEST_TOPICS: Final = (topics.OBSERVATIONS_TOPIC, topics.TRACKLETS_TOPIC, topics.HEARTBEATS_TOPIC)

log = logging.getLogger("footfall.cloud.bus")


class BrokerError(RuntimeError):
    """The broker cannot be reached or refused a request."""


def _admin(bootstrap_servers: str, timeout_ms: int) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="footfall-cloud-admin",
            request_timeout_ms=timeout_ms,
        )
    except KafkaError:  # kafka-python 3 raises KafkaTimeoutError("Unable to bootstrap …")
        raise BrokerError(
            f"No Kafka-protocol broker answers at {bootstrap_servers}; start one with "
            "`footfall stack up` or pass the right address with --bootstrap-servers."
        ) from None


def list_topics(bootstrap_servers: str, timeout_ms: int = 10_000) -> set[str]:
    """Names of the topics the broker knows."""
    admin = _admin(bootstrap_servers, timeout_ms)
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
) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the ones created."""
    admin = _admin(bootstrap_servers, timeout_ms)
    try:
        existing = set(admin.list_topics())
        names = [topic_name(t, namespace) for t in topics.ALL_TOPICS]
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
    ) -> None:
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
                fetch_max_bytes=64 * 1024 * 1024,
                max_partition_fetch_bytes=8 * 1024 * 1024,
            )
        except KafkaError:
            raise BrokerError(
                f"No Kafka-protocol broker answers at {bootstrap_servers}; start one with "
                "`footfall stack up` or pass the right address with --bootstrap-servers."
            ) from None
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


class KafkaDeadLetters:
    """Publishes dead letters with their reason and source topic in record headers."""

    def __init__(self, bootstrap_servers: str, namespace: str = "") -> None:
        self._servers = bootstrap_servers
        self._topic = topic_name(topics.DEADLETTER_TOPIC, namespace)
        self._producer: KafkaProducer | None = None

    def send(self, letters: Sequence[DeadLetter]) -> None:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._servers,
                client_id="footfall-cloud-deadletter",
                acks="all",
                linger_ms=5,
                compression_type="gzip",
            )
        for letter in letters:
            record = letter.record
            headers = [
                (topics.DEADLETTER_REASON_HEADER, letter.reason.encode()),
                (topics.DEADLETTER_TOPIC_HEADER, record.topic.encode()),
            ]
            self._producer.send(self._topic, key=record.key, value=record.value, headers=headers)
        self._producer.flush(timeout=30)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)


class MessagePublisher:
    """Publishes contract messages to their topics, keyed by camera (the simulator's and the
    load generator's producer: batched, uncompressed, acks from the leader)."""

    def __init__(self, bootstrap_servers: str, namespace: str = "") -> None:
        self._namespace = namespace
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap_servers,
                client_id="footfall-simulate",
                acks=1,
                linger_ms=20,
                batch_size=1024 * 1024,
                max_request_size=8 * 1024 * 1024,
            )
        except KafkaError:
            raise BrokerError(
                f"No Kafka-protocol broker answers at {bootstrap_servers}; start one with "
                "`footfall stack up` or pass the right address with --bootstrap-servers."
            ) from None
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
