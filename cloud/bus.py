"""The cloud's adapter around kafka-python: topic set-up and broker checks.

Only this module imports ``kafka``. Errors a user can cause (broker down, wrong address) become
``BrokerError`` with one sentence naming the address and the fix.
"""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from footfall.contract import topics


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


def ensure_topics(
    bootstrap_servers: str,
    partitions: int = topics.RECOMMENDED_PARTITIONS,
    timeout_ms: int = 10_000,
) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the ones created."""
    admin = _admin(bootstrap_servers, timeout_ms)
    try:
        existing = set(admin.list_topics())
        wanted = [name for name in topics.ALL_TOPICS if name not in existing]
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
