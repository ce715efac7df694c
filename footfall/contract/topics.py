"""Kafka topics of the v1 wire contract, and how messages are keyed onto partitions.

Topics (the version in the name changes only with an incompatible contract):

* ``footfall.observations.v1`` -- ``frame`` messages (one per processed camera frame).
* ``footfall.tracklets.v1`` -- ``tracklet_start`` and ``tracklet_end`` messages.
* ``footfall.heartbeats.v1`` -- ``heartbeat`` messages.
* ``footfall.deadletter.v1`` -- records the cloud could not ingest: the original key and
  value bytes, with the one-sentence ``str(ContractError)`` reason and the source topic in
  the record headers :data:`DEADLETTER_REASON_HEADER` and :data:`DEADLETTER_TOPIC_HEADER`.

Ordering guarantee, in plain words: every message is keyed by its camera
(``"<site_id>/<camera_id>"``, see :func:`partition_key`), so all messages of one camera go to
one partition of their topic. With an idempotent producer, the order in which the edge node
sent them is therefore preserved per camera per topic: a consumer sees one camera's frames
in order, and one camera's tracklet starts and ends in order. Nothing is guaranteed across
cameras, nor across topics: a consumer must not assume, say, that a ``tracklet_end``
arrives after the camera's last ``frame`` message that contains the track, or that a
heartbeat arrives after the frames it reports on.

Delivery is at least once: after a retry or a consumer restart a message may arrive again.
Consumers must therefore be idempotent on the messages' natural keys (``natural_key()``):
``(site_id, camera_id, captured_at)`` for frames, ``(site_id, camera_id, run_id, track_id)``
for tracklet starts and ends (one key per kind), ``(site_id, camera_id, sent_at)`` for
heartbeats.

Create every topic with :data:`RECOMMENDED_PARTITIONS` partitions. Changing the partition
count later moves cameras to other partitions, which breaks per-camera ordering while
messages written before the change are still being consumed.
"""

from typing import Final

from footfall.contract.messages import Message

__all__ = [
    "ALL_TOPICS",
    "DEADLETTER_REASON_HEADER",
    "DEADLETTER_TOPIC",
    "DEADLETTER_TOPIC_HEADER",
    "HEARTBEATS_TOPIC",
    "OBSERVATIONS_TOPIC",
    "RECOMMENDED_PARTITIONS",
    "TOPIC_BY_KIND",
    "TRACKLETS_TOPIC",
    "partition_key",
    "topic_for",
]

OBSERVATIONS_TOPIC: Final = "footfall.observations.v1"
"""Per-frame observations (``frame``)."""
TRACKLETS_TOPIC: Final = "footfall.tracklets.v1"
"""Tracklet lifecycle (``tracklet_start``, ``tracklet_end``)."""
HEARTBEATS_TOPIC: Final = "footfall.heartbeats.v1"
"""Camera pipeline health (``heartbeat``)."""
DEADLETTER_TOPIC: Final = "footfall.deadletter.v1"
"""Records that failed ingest, with the reason in a header."""

ALL_TOPICS: Final = (OBSERVATIONS_TOPIC, TRACKLETS_TOPIC, HEARTBEATS_TOPIC, DEADLETTER_TOPIC)

RECOMMENDED_PARTITIONS: Final = 12
"""Partitions per topic: enough consumers in parallel for a mall's cameras, fixed for life."""

DEADLETTER_REASON_HEADER: Final = "footfall-reason"
"""Dead-letter record header holding ``str(ContractError)`` (UTF-8)."""
DEADLETTER_TOPIC_HEADER: Final = "footfall-source-topic"
"""Dead-letter record header holding the topic the record was consumed from (UTF-8)."""

TOPIC_BY_KIND: Final[dict[str, str]] = {
    "frame": OBSERVATIONS_TOPIC,
    "tracklet_start": TRACKLETS_TOPIC,
    "tracklet_end": TRACKLETS_TOPIC,
    "heartbeat": HEARTBEATS_TOPIC,
}
"""The topic each message kind is published to."""


def topic_for(msg: Message) -> str:
    """The topic a message is published to."""
    return TOPIC_BY_KIND[msg.kind]


def partition_key(msg: Message) -> bytes:
    """The Kafka record key: ``b"<site_id>/<camera_id>"``, so one camera -> one partition."""
    return f"{msg.site_id}/{msg.camera_id}".encode()
