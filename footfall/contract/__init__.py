"""The footfall wire contract (v1): messages from edge nodes to the cloud over Kafka.

A leaf package: it imports only pydantic and the Python standard library, so both the edge
and the cloud (and anything else) can depend on it.

* Messages: :class:`FrameObservations` (``frame``), :class:`TrackletStarted`
  (``tracklet_start``), :class:`TrackletEnded` (``tracklet_end``), :class:`CameraHeartbeat`
  (``heartbeat``), and the discriminated union :data:`Message`.
* Codec: :func:`encode` (message -> compact UTF-8 JSON) and :func:`decode` (bytes ->
  message, or a :class:`ContractError` whose text is one sentence naming the problem).
* Topics: topic names, :func:`topic_for`, :func:`partition_key` and the ordering and
  delivery guarantees (see :mod:`footfall.contract.topics`).
* JSON-schema snapshots: :mod:`footfall.contract.schemas`.
"""

from footfall.contract.codec import MAX_MESSAGE_BYTES, decode, encode
from footfall.contract.errors import ContractError
from footfall.contract.messages import (
    EMBEDDING_MAX_DIMS,
    EMBEDDING_MIN_DIMS,
    EMBEDDING_NORM_TOLERANCE,
    MAX_COUNT,
    MAX_DETAIL_CHARS,
    MAX_FLOOR_EXTENT_M,
    MAX_FPS,
    MAX_IMAGE_SIDE_PX,
    MAX_INTERVAL_S,
    MAX_LATENCY_MS,
    MAX_TRACKS_PER_FRAME,
    MESSAGE_TYPES,
    SCHEMA_VERSION,
    Box,
    CameraHeartbeat,
    CameraStatus,
    FloorXY,
    FrameKey,
    FrameObservations,
    HeartbeatKey,
    Message,
    MessageKind,
    TrackletEnded,
    TrackletKey,
    TrackletStarted,
    TrackObservation,
    new_run_id,
    new_track_id,
)
from footfall.contract.topics import (
    ALL_TOPICS,
    DEADLETTER_REASON_HEADER,
    DEADLETTER_TOPIC,
    DEADLETTER_TOPIC_HEADER,
    HEARTBEATS_TOPIC,
    OBSERVATIONS_TOPIC,
    RECOMMENDED_PARTITIONS,
    TOPIC_BY_KIND,
    TRACKLETS_TOPIC,
    partition_key,
    topic_for,
)

__all__ = [
    "ALL_TOPICS",
    "DEADLETTER_REASON_HEADER",
    "DEADLETTER_TOPIC",
    "DEADLETTER_TOPIC_HEADER",
    "EMBEDDING_MAX_DIMS",
    "EMBEDDING_MIN_DIMS",
    "EMBEDDING_NORM_TOLERANCE",
    "HEARTBEATS_TOPIC",
    "MAX_COUNT",
    "MAX_DETAIL_CHARS",
    "MAX_FLOOR_EXTENT_M",
    "MAX_FPS",
    "MAX_IMAGE_SIDE_PX",
    "MAX_INTERVAL_S",
    "MAX_LATENCY_MS",
    "MAX_MESSAGE_BYTES",
    "MAX_TRACKS_PER_FRAME",
    "MESSAGE_TYPES",
    "OBSERVATIONS_TOPIC",
    "RECOMMENDED_PARTITIONS",
    "SCHEMA_VERSION",
    "TOPIC_BY_KIND",
    "TRACKLETS_TOPIC",
    "Box",
    "CameraHeartbeat",
    "CameraStatus",
    "ContractError",
    "FloorXY",
    "FrameKey",
    "FrameObservations",
    "HeartbeatKey",
    "Message",
    "MessageKind",
    "TrackObservation",
    "TrackletEnded",
    "TrackletKey",
    "TrackletStarted",
    "decode",
    "encode",
    "new_run_id",
    "new_track_id",
    "partition_key",
    "topic_for",
]
