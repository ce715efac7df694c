"""What the publisher keeps in its spool for one message: the Kafka topic, key and value.

Packed as ``<topic length u8><topic><key length u16><key><value>``: the message is encoded once,
when it is published, and the sender never has to parse it again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from footfall.contract import Message, encode, partition_key, topic_for

__all__ = ["OutgoingRecord", "pack", "unpack"]

_TOPIC_LEN: Final = struct.Struct("<B")
_KEY_LEN: Final = struct.Struct("<H")


@dataclass(frozen=True)
class OutgoingRecord:
    """A Kafka record as the publisher sends it: ``key`` is ``b"<site_id>/<camera_id>"``."""

    topic: str
    key: bytes
    value: bytes

    @classmethod
    def from_message(cls, message: Message, topic_namespace: str = "") -> OutgoingRecord:
        """Topic, key and encoded value of a contract message (see ``footfall.contract``).

        ``topic_namespace``: the topic is ``"<namespace>.<topic>"``, as ingest's
        ``--topic-namespace`` reads it (no namespace: the contract's topic name).
        """
        topic = topic_for(message)
        if topic_namespace:
            topic = f"{topic_namespace}.{topic}"
        return cls(topic, partition_key(message), encode(message))


def pack(record: OutgoingRecord) -> bytes:
    """The spool payload for ``record``."""
    topic = record.topic.encode()
    if len(topic) > 255 or len(record.key) > 65535:
        raise ValueError(f"topic or key too long for the spool: {record.topic!r}")
    return (
        _TOPIC_LEN.pack(len(topic))
        + topic
        + _KEY_LEN.pack(len(record.key))
        + record.key
        + (record.value)
    )


def unpack(payload: bytes) -> OutgoingRecord:
    """The record packed by :func:`pack`; ``ValueError`` if ``payload`` is not one."""
    try:
        (topic_len,) = _TOPIC_LEN.unpack_from(payload, 0)
        at = _TOPIC_LEN.size
        topic = payload[at : at + topic_len].decode()
        at += topic_len
        (key_len,) = _KEY_LEN.unpack_from(payload, at)
        at += _KEY_LEN.size
        key = payload[at : at + key_len]
        at += key_len
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"not a spooled record: {exc}") from None
    if len(key) != key_len or at > len(payload):
        raise ValueError("not a spooled record: cut short")
    return OutgoingRecord(topic, key, payload[at:])
