"""The v1 wire messages that edge nodes publish and the cloud ingests.

Every message is a small, frozen pydantic model that serialises to compact JSON. The
messages are anonymous by construction: they carry ids that are random per edge-process
run, bounding boxes, floor-plan coordinates and (for tracklets) a re-identification
embedding vector, and nothing that could carry pixels: there are no bytes fields, every
string is length-bounded and patterned, every array has a maximum length and every number
is bounded.

Common envelope (every message):

* ``schema_version`` -- always ``1`` for this contract (required on the wire).
* ``kind`` -- the discriminator: ``frame``, ``tracklet_start``, ``tracklet_end`` or
  ``heartbeat`` (required on the wire).
* ``site_id``, ``camera_id``, ``node_id`` -- slugs (``^[a-z0-9][a-z0-9_-]{0,62}$``) naming
  the mall, the camera within it, and the edge node that processed the camera.

Timestamps are UTC. A naive datetime (no offset) is rejected; an aware datetime in another
zone is converted to UTC; on the wire a timestamp is ISO 8601 with a ``Z`` suffix, e.g.
``2024-05-01T12:00:00.123456Z``. Timestamps outside 2000-01-01 .. 2100-01-01 are rejected,
which catches edge nodes whose clock was never set.

In Python, ``schema_version`` and ``kind`` default to the right values, and array fields are
tuples (so that messages are immutable); lists are accepted when constructing.
"""

import math
import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

__all__ = [
    "EMBEDDING_MAX_DIMS",
    "EMBEDDING_MIN_DIMS",
    "EMBEDDING_NORM_TOLERANCE",
    "MAX_COUNT",
    "MAX_DETAIL_CHARS",
    "MAX_FLOOR_EXTENT_M",
    "MAX_FPS",
    "MAX_IMAGE_SIDE_PX",
    "MAX_INTERVAL_S",
    "MAX_LATENCY_MS",
    "MAX_TRACKS_PER_FRAME",
    "MESSAGE_TYPES",
    "SCHEMA_VERSION",
    "Box",
    "CameraHeartbeat",
    "CameraStatus",
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
    "new_run_id",
    "new_track_id",
]

SCHEMA_VERSION: Final = 1
"""The version of this wire contract; every message carries it as ``schema_version``."""

SLUG_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
RUN_ID_PATTERN: Final = r"^[0-9a-f]{16,32}$"
TRACK_ID_PATTERN: Final = r"^[0-9a-f]{8,32}$"
EMBEDDING_MODEL_PATTERN: Final = r"^[a-z0-9][a-z0-9_.+-]{0,63}$"
DETAIL_PATTERN: Final = r"^[^\x00-\x1f\x7f]*$"

MAX_TRACKS_PER_FRAME: Final = 500
"""Most tracks one frame message may carry (a crowded atrium view stays well below)."""
MAX_IMAGE_SIDE_PX: Final = 16384
"""Largest image width or height in pixels."""
MAX_FLOOR_EXTENT_M: Final = 10_000.0
"""Floor-plan coordinates are bounded to +-this many metres from the floor's origin."""
EMBEDDING_MIN_DIMS: Final = 64
EMBEDDING_MAX_DIMS: Final = 2048
EMBEDDING_NORM_TOLERANCE: Final = 1e-3
"""An embedding is accepted as L2-normalised when ``abs(norm - 1) <= this``."""
MAX_DETAIL_CHARS: Final = 200
MAX_FRAME_INDEX: Final = 2**53
MAX_INTERVAL_S: Final = 3600.0
MAX_FPS: Final = 1000.0
MAX_LATENCY_MS: Final = 3_600_000.0
MAX_COUNT: Final = 2**31 - 1

_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_TIMESTAMP_MAX_CHARS: Final = 32  # 2024-05-01T12:00:00.123456+00:00
_TIMESTAMP_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
)
_TIMESTAMP_SCHEMA_PATTERN: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def new_run_id() -> str:
    """A fresh random ``run_id`` (32 lowercase hex chars) for one run of an edge process."""
    return secrets.token_hex(16)


def new_track_id() -> str:
    """A fresh random anonymous ``track_id`` (16 lowercase hex chars).

    Track ids must be random per run and never derived from anything about the person.
    """
    return secrets.token_hex(8)


# --------------------------------------------------------------------------- timestamps


_NAIVE: Final = (
    "naive timestamp without a UTC offset; timestamps must be UTC, e.g. 2024-05-01T12:00:00Z"
)


def _check_timestamp(value: object) -> object:
    """A timestamp is a datetime or, on the wire, ISO 8601 text with an explicit offset."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp string like 2024-05-01T12:00:00Z")
    match = _TIMESTAMP_RE.fullmatch(value) if len(value) <= _TIMESTAMP_MAX_CHARS else None
    if match is None:
        raise ValueError(
            "not an ISO 8601 timestamp like 2024-05-01T12:00:00.123Z (at most 6 fraction digits)"
        )
    if match.group("zone") is None:
        raise ValueError(_NAIVE)
    return value


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(_NAIVE)
    value = value.astimezone(UTC)
    if not _EARLIEST <= value < _LATEST:
        raise ValueError(
            f"{_format_utc(value)} is outside 2000-01-01..2100-01-01; is the node's clock set?"
        )
    return value


def _format_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_check_timestamp),
    AfterValidator(_to_utc),
    PlainSerializer(_format_utc, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "maxLength": _TIMESTAMP_MAX_CHARS,
            "pattern": _TIMESTAMP_SCHEMA_PATTERN,
        }
    ),
]
"""A UTC timestamp: aware datetimes are converted to UTC, naive ones are rejected."""

# --------------------------------------------------------------------------- scalar types

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=63)]
RunId = Annotated[str, StringConstraints(pattern=RUN_ID_PATTERN, max_length=32)]
TrackId = Annotated[str, StringConstraints(pattern=TRACK_ID_PATTERN, max_length=32)]
EmbeddingModel = Annotated[str, StringConstraints(pattern=EMBEDDING_MODEL_PATTERN, max_length=64)]
Unit = Annotated[StrictFloat, Field(ge=0.0, le=1.0)]
Pixel = Annotated[StrictFloat, Field(ge=0.0, le=float(MAX_IMAGE_SIDE_PX))]
Metres = Annotated[StrictFloat, Field(ge=-MAX_FLOOR_EXTENT_M, le=MAX_FLOOR_EXTENT_M)]
EmbeddingComponent = Annotated[
    StrictFloat, Field(ge=-1.0 - EMBEDDING_NORM_TOLERANCE, le=1.0 + EMBEDDING_NORM_TOLERANCE)
]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]

Box = tuple[Pixel, Pixel, Pixel, Pixel]
"""A bounding box ``[x1, y1, x2, y2]`` in image pixels, origin top-left, x2 > x1, y2 > y1."""
FloorXY = tuple[Metres, Metres]
"""A point ``[x, y]`` in metres in the floor plan's coordinate frame."""
Embedding = tuple[EmbeddingComponent, ...]

FrameKey = tuple[str, str, datetime]
TrackletKey = tuple[str, str, str, str]
HeartbeatKey = tuple[str, str, datetime]

MessageKind = Literal["frame", "tracklet_start", "tracklet_end", "heartbeat"]


class CameraStatus(StrEnum):
    """Health of one camera's pipeline as the edge node sees it."""

    OK = "ok"
    """Frames arrive and are processed at (about) the target rate."""
    DEGRADED = "degraded"
    """Frames arrive but the node falls behind: it processes under 90 % of the target rate
    or publishes later than its latency bound (``detail`` says which)."""
    OFFLINE = "offline"
    """No frames arrive from the camera (stream lost, camera down)."""
    ERROR = "error"
    """Processing this camera's frames raised; the node retries it with backoff."""


# --------------------------------------------------------------------------- models

_CONFIG = ConfigDict(
    extra="forbid",
    frozen=True,
    allow_inf_nan=False,
)


_ENVELOPE: Final = ("schema_version", "kind")


def _require_envelope_on_wire(schema: dict[str, Any]) -> None:
    """``schema_version`` and ``kind`` default in Python but are required on the wire."""
    required = [name for name in schema.get("required", []) if name not in _ENVELOPE]
    schema["required"] = [*_ENVELOPE, *required]
    for name in _ENVELOPE:
        schema.get("properties", {}).get(name, {}).pop("default", None)


def _check_embedding(embedding: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """Reject an embedding that is not unit length (within the tolerance)."""
    if embedding is None:
        return None
    norm = math.hypot(*embedding)
    if not abs(norm - 1.0) <= EMBEDDING_NORM_TOLERANCE:
        raise ValueError(f"not L2-normalised (norm {norm:.4g}); normalise it before sending")
    return embedding


class _Envelope(BaseModel):
    """Fields shared by every message: version, kind and where it comes from."""

    model_config = ConfigDict(**_CONFIG, json_schema_extra=_require_envelope_on_wire)

    schema_version: Literal[1] = Field(
        default=1, description="Version of the wire contract; always 1 for v1 messages."
    )
    kind: str = Field(description="Message kind; the discriminator of the Message union.")
    site_id: Slug = Field(description="The site (shopping mall) the camera belongs to.")
    camera_id: Slug = Field(description="The camera, unique within its site.")
    node_id: Slug = Field(description="The edge node that processed the camera.")


class TrackObservation(BaseModel):
    """One tracked person in one camera frame.

    ``track_id`` is an anonymous local id: random per edge-process run, stable for as long
    as the tracker follows the person on this camera, and never derived from anything about
    the person. ``box`` is the detection box in image pixels. When the camera is calibrated,
    ``floor_id`` and ``floor_xy`` give the person's feet (e.g. the bottom centre of the box)
    projected onto that floor of the site's floor plan; both are present or both absent.
    """

    model_config = _CONFIG

    track_id: TrackId = Field(
        description="Random anonymous local track id, lowercase hex (8-32 chars), random per run."
    )
    box: Box = Field(
        description=(
            "Bounding box [x1, y1, x2, y2] in image pixels (origin top-left), clipped to the "
            "image, x2 > x1 and y2 > y1."
        )
    )
    confidence: Unit = Field(description="Detection confidence in [0, 1].")
    floor_id: Slug | None = Field(
        default=None, description="Floor of the site's floor plan the feet were projected onto."
    )
    floor_xy: FloorXY | None = Field(
        default=None,
        description="Feet position [x, y] in metres in floor_id's coordinate frame.",
    )

    @field_validator("box")
    @classmethod
    def _box_not_empty(cls, box: Box) -> Box:
        x1, y1, x2, y2 = box
        if not x2 > x1:
            raise ValueError(f"x2 must be greater than x1 (got x1={x1:g}, x2={x2:g})")
        if not y2 > y1:
            raise ValueError(f"y2 must be greater than y1 (got y1={y1:g}, y2={y2:g})")
        return box

    @model_validator(mode="after")
    def _floor_pair(self) -> "TrackObservation":
        if self.floor_xy is not None and self.floor_id is None:
            raise ValueError("floor_xy is given without floor_id; send both or neither")
        if self.floor_id is not None and self.floor_xy is None:
            raise ValueError("floor_id is given without floor_xy; send both or neither")
        return self


class FrameObservations(_Envelope):
    """Everything one camera saw in one processed frame: one message per frame.

    ``tracks`` holds every confirmed track in the frame and may be empty: an empty frame is
    information (nobody is in view). Frames are numbered by ``frame_index`` within one run
    of the edge process (``run_id``); a restart starts a new run.

    Natural key for idempotent ingest: ``(site_id, camera_id, captured_at)``, see
    :meth:`natural_key`.
    """

    kind: Literal["frame"] = Field(default="frame", description="Always 'frame'.")
    run_id: RunId = Field(
        description="Random id of the edge-process run, lowercase hex (16-32 chars)."
    )
    frame_index: StrictInt = Field(
        ge=0, le=MAX_FRAME_INDEX, description="Index of the frame within the run, from 0."
    )
    captured_at: UtcDatetime = Field(description="When the frame was captured (UTC).")
    image_width: StrictInt = Field(
        ge=1, le=MAX_IMAGE_SIDE_PX, description="Width of the processed image in pixels."
    )
    image_height: StrictInt = Field(
        ge=1, le=MAX_IMAGE_SIDE_PX, description="Height of the processed image in pixels."
    )
    tracks: tuple[TrackObservation, ...] = Field(
        max_length=MAX_TRACKS_PER_FRAME,
        description="All tracks in the frame (may be empty: nobody in view).",
    )

    @model_validator(mode="after")
    def _tracks_fit_frame(self) -> "FrameObservations":
        seen: set[str] = set()
        for i, track in enumerate(self.tracks):
            if track.track_id in seen:
                raise ValueError(f"tracks[{i}].track_id is a duplicate; track ids are unique")
            seen.add(track.track_id)
            _, _, x2, y2 = track.box
            if x2 > self.image_width:
                raise ValueError(
                    f"tracks[{i}].box x2={x2:g} exceeds image_width={self.image_width}; "
                    "clip boxes to the image"
                )
            if y2 > self.image_height:
                raise ValueError(
                    f"tracks[{i}].box y2={y2:g} exceeds image_height={self.image_height}; "
                    "clip boxes to the image"
                )
        return self

    def natural_key(self) -> FrameKey:
        """``(site_id, camera_id, captured_at)``: ingest is idempotent on this key."""
        return (self.site_id, self.camera_id, self.captured_at)


class _Tracklet(_Envelope):
    """Fields shared by tracklet start and end."""

    run_id: RunId = Field(
        description="Random id of the edge-process run, lowercase hex (16-32 chars)."
    )
    track_id: TrackId = Field(
        description="Random anonymous local track id, lowercase hex (8-32 chars), random per run."
    )
    started_at: UtcDatetime = Field(description="Capture time of the tracklet's first frame (UTC).")

    def natural_key(self) -> TrackletKey:
        """``(site_id, camera_id, run_id, track_id)``: ingest is idempotent on this key."""
        return (self.site_id, self.camera_id, self.run_id, self.track_id)


class TrackletStarted(_Tracklet):
    """A tracklet began: the tracker confirmed a new local track on this camera.

    A tracklet is one local track on one camera during one edge-process run. The embedding
    is optional here; sending an early one helps the cloud stitch tracklets across cameras
    online. If ``embedding`` is present, ``embedding_model`` must be too; ``quality`` may
    only accompany an embedding.

    Natural key for idempotent ingest: ``(site_id, camera_id, run_id, track_id)``.
    """

    kind: Literal["tracklet_start"] = Field(
        default="tracklet_start", description="Always 'tracklet_start'."
    )
    embedding: Embedding | None = Field(
        default=None,
        min_length=EMBEDDING_MIN_DIMS,
        max_length=EMBEDDING_MAX_DIMS,
        description=(
            "Optional early Re-ID appearance embedding, L2-normalised, "
            f"{EMBEDDING_MIN_DIMS}-{EMBEDDING_MAX_DIMS} dimensions."
        ),
    )
    embedding_model: EmbeddingModel | None = Field(
        default=None,
        description="Name of the model that produced the embedding, e.g. osnet_x0_25_msmt17.",
    )
    quality: Unit | None = Field(
        default=None, description="Quality of the embedding in [0, 1] (1 = best)."
    )

    @field_validator("embedding")
    @classmethod
    def _embedding_normalised(cls, embedding: Embedding | None) -> Embedding | None:
        return _check_embedding(embedding)

    @model_validator(mode="after")
    def _embedding_needs_model(self) -> "TrackletStarted":
        if self.embedding is not None and self.embedding_model is None:
            raise ValueError("embedding_model is required when an embedding is given")
        if self.embedding is None and self.embedding_model is not None:
            raise ValueError("embedding_model is given without an embedding")
        if self.embedding is None and self.quality is not None:
            raise ValueError("quality is given without an embedding")
        return self


class TrackletEnded(_Tracklet):
    """A tracklet ended: the tracker lost or dropped the local track on this camera.

    Carries the tracklet's final appearance embedding (L2-normalised) for cross-camera
    stitching, the model that produced it, and its quality. A camera without pixels (replayed
    from a detection file) or without Re-ID has no appearance: its tracklets end without
    ``embedding``, ``embedding_model`` and ``quality`` (all three absent together), and are
    stitched by time and floor position alone. Messages with an embedding are unchanged.

    Natural key for idempotent ingest: ``(site_id, camera_id, run_id, track_id)``.
    """

    kind: Literal["tracklet_end"] = Field(
        default="tracklet_end", description="Always 'tracklet_end'."
    )
    ended_at: UtcDatetime = Field(
        description="Capture time of the tracklet's last frame (UTC), not before started_at."
    )
    frame_count: StrictInt = Field(
        ge=1, le=MAX_COUNT, description="Number of frames in which the track was observed."
    )
    embedding: Embedding | None = Field(
        default=None,
        min_length=EMBEDDING_MIN_DIMS,
        max_length=EMBEDDING_MAX_DIMS,
        description=(
            "Re-ID appearance embedding of the tracklet, L2-normalised, "
            f"{EMBEDDING_MIN_DIMS}-{EMBEDDING_MAX_DIMS} dimensions; absent for a camera "
            "without appearance (a detection-file replay, no Re-ID)."
        ),
    )
    embedding_model: EmbeddingModel | None = Field(
        default=None,
        description="Name of the model that produced the embedding, e.g. osnet_x0_25_msmt17; "
        "absent exactly when the embedding is.",
    )
    quality: Unit | None = Field(
        default=None,
        description="Quality of the embedding in [0, 1] (1 = best); absent exactly when the "
        "embedding is.",
    )

    @field_validator("embedding")
    @classmethod
    def _embedding_normalised(cls, embedding: Embedding | None) -> Embedding | None:
        return _check_embedding(embedding)

    @model_validator(mode="after")
    def _embedding_needs_model(self) -> "TrackletEnded":
        given = (self.embedding is not None, self.embedding_model is not None)
        if given == (True, False):
            raise ValueError("embedding_model is required when an embedding is given")
        if given == (False, True):
            raise ValueError("embedding_model is given without an embedding")
        if self.embedding is not None and self.quality is None:
            raise ValueError("quality is required when an embedding is given")
        if self.embedding is None and self.quality is not None:
            raise ValueError("quality is given without an embedding")
        return self

    @model_validator(mode="after")
    def _ends_after_start(self) -> "TrackletEnded":
        if self.ended_at < self.started_at:
            raise ValueError(
                f"ended_at ({_format_utc(self.ended_at)}) is before started_at "
                f"({_format_utc(self.started_at)})"
            )
        return self


class CameraHeartbeat(_Envelope):
    """Periodic health report for one camera's pipeline on an edge node.

    Sent every ``interval_s`` seconds whether or not anyone is in view, so that the cloud
    can tell "nobody there" from "camera down". Figures cover the interval that ended at
    ``sent_at``.

    Natural key for idempotent ingest: ``(site_id, camera_id, sent_at)``.
    """

    kind: Literal["heartbeat"] = Field(default="heartbeat", description="Always 'heartbeat'.")
    run_id: RunId = Field(
        description="Random id of the edge-process run, lowercase hex (16-32 chars); "
        "a change means the edge process restarted."
    )
    sent_at: UtcDatetime = Field(description="When the heartbeat was sent (UTC).")
    interval_s: StrictFloat = Field(
        gt=0.0, le=MAX_INTERVAL_S, description="Length of the reported interval in seconds."
    )
    frames: Count = Field(description="Frames processed in the interval.")
    fps: StrictFloat = Field(ge=0.0, le=MAX_FPS, description="Measured processing rate, frames/s.")
    target_fps: StrictFloat = Field(
        gt=0.0, le=MAX_FPS, description="Configured target rate, frames/s."
    )
    latency_ms: StrictFloat | None = Field(
        default=None,
        ge=0.0,
        le=MAX_LATENCY_MS,
        description="Mean capture-to-publish latency over the interval in milliseconds; "
        "absent when no frame was published.",
    )
    latency_p95_ms: StrictFloat | None = Field(
        default=None,
        ge=0.0,
        le=MAX_LATENCY_MS,
        description="95th percentile capture-to-publish latency over the interval in "
        "milliseconds; absent when not measured.",
    )
    dropped_frames: Count = Field(description="Frames captured but not processed in the interval.")
    status: CameraStatus = Field(description="Pipeline health: ok, degraded, offline or error.")
    detail: str | None = Field(
        default=None,
        max_length=MAX_DETAIL_CHARS,
        pattern=DETAIL_PATTERN,
        description="Optional one-line human-readable explanation, e.g. an error sentence.",
    )

    def natural_key(self) -> HeartbeatKey:
        """``(site_id, camera_id, sent_at)``: ingest is idempotent on this key."""
        return (self.site_id, self.camera_id, self.sent_at)


Message = Annotated[
    FrameObservations | TrackletStarted | TrackletEnded | CameraHeartbeat,
    Field(discriminator="kind"),
]
"""Any v1 wire message, discriminated by ``kind``."""

MESSAGE_TYPES: Final[dict[str, type[BaseModel]]] = {
    "frame": FrameObservations,
    "tracklet_start": TrackletStarted,
    "tracklet_end": TrackletEnded,
    "heartbeat": CameraHeartbeat,
}
"""Message class per ``kind``."""
