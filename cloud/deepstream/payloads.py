"""DeepStream message payloads → one transport-neutral shape (:class:`DsFrame`).

Three payloads of Gst-nvmsgconv are read (field names as nvmsgconv's ``deepstream_schema``
sources and ``schema.proto`` write them, DeepStream 6.2 to 7.x):

* **minimal** JSON (``msg-conv-payload-type=1``), one message per frame::

    {"version": "4.0", "id": "<frame number>", "@timestamp": "2026-11-20T09:00:00.200Z",
     "sensorId": "<sensor id>", "objects": ["<tracking id>|<left>|<top>|<right>|<bottom>|
     <label>[|#|<attributes…>|<confidence>]", …]}

* **full** JSON (payload type 0), one message per object::

    {"messageid": "…", "mdsversion": "1.0", "@timestamp": "…", "sensor": {"id": "…", …},
     "object": {"id": "<tracking id>", "person": {"confidence": 0.9, …},
                "bbox": {"topleftx": 1, "toplefty": 2, "bottomrightx": 3, "bottomrighty": 4},
                "signature": [<embedding floats>], …}, "event": {…}, …}

* **protobuf** ``nv.Frame`` (payload type 2), one message per frame (:mod:`cloud.deepstream.proto`):
  ``timestamp``, ``sensorId``, ``objects`` with ``id``, ``bbox`` (``leftX``, ``topY``,
  ``rightX``, ``bottomY``), ``type``, ``confidence`` and ``embedding.vector``.

Anything else raises :class:`PayloadError` with one sentence for the dead-letter topic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from cloud.deepstream.proto import ProtoError, decode_frame, timestamp_of

MAX_PAYLOAD_BYTES: Final = 4_000_000
"""Largest payload read (a frame of hundreds of objects with 2048-d embeddings stays below)."""
MAX_OBJECTS: Final = 2000


class Schema(StrEnum):
    MINIMAL = "minimal"
    FULL = "full"
    PROTOBUF = "protobuf"


class PayloadError(ValueError):
    """A payload that is not a DeepStream message footfall can read; ``str()`` says why."""


@dataclass(frozen=True)
class DsObject:
    """One object of one frame as DeepStream described it."""

    tracking_id: str
    box: tuple[float, float, float, float]
    """left, top, right, bottom in the pixels DeepStream gave (its streammux frame)."""
    label: str
    confidence: float | None
    embedding: tuple[float, ...] | None


@dataclass(frozen=True)
class DsFrame:
    """What one DeepStream message says: a sensor, a time and some (or all) of its objects."""

    schema: Schema
    sensor_id: str
    captured_at: datetime
    objects: tuple[DsObject, ...]


def parse(data: bytes | None, schema: Schema | None = None) -> DsFrame:
    """Read one DeepStream message; ``schema`` None tells JSON (minimal or full) from protobuf."""
    if data is None:
        raise PayloadError("the record has no value; DeepStream messages always have one")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload too large ({len(data)} bytes > {MAX_PAYLOAD_BYTES})")
    if schema is Schema.PROTOBUF or (schema is None and data.lstrip()[:1] != b"{"):
        return _protobuf(data)
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not JSON ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(doc, dict):
        raise PayloadError("the JSON payload is not an object")
    if schema is Schema.MINIMAL or (schema is None and "objects" in doc):
        return _minimal(doc)
    if schema is Schema.FULL or (schema is None and "object" in doc):
        return _full(doc)
    raise PayloadError(
        "JSON without 'objects' (minimal schema) or 'object' (full schema): not a DeepStream "
        "nvmsgconv payload"
    )


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise PayloadError("'@timestamp' is missing; nvmsgconv always writes it")
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"'@timestamp' {value[:40]!r} is not RFC 3339") from None
    if at.tzinfo is None:
        raise PayloadError(f"'@timestamp' {value[:40]!r} has no UTC offset")
    return at.astimezone(UTC)


def _sensor(value: Any, field: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise PayloadError(f"'{field}' is missing; set the sensor id in nvmsgconv's config")
    return str(value)[:200]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(f"{what} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(f"{what} {str(value)[:20]!r} is not a number") from None
    if not math.isfinite(number):
        raise PayloadError(f"{what} is not finite")
    return number


def _box(left: Any, top: Any, right: Any, bottom: Any) -> tuple[float, float, float, float]:
    return (
        _number(left, "bbox left"),
        _number(top, "bbox top"),
        _number(right, "bbox right"),
        _number(bottom, "bbox bottom"),
    )


def _embedding(values: Any) -> tuple[float, ...] | None:
    if values is None or (isinstance(values, list) and not values):
        return None
    if not isinstance(values, list) or len(values) > 4096:
        raise PayloadError("the embedding is not a list of at most 4096 numbers")
    return tuple(_number(v, "an embedding value") for v in values)


def _minimal(doc: dict[str, Any]) -> DsFrame:
    objects = doc.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_OBJECTS:
        raise PayloadError(f"'objects' is not a list of at most {MAX_OBJECTS} strings")
    out = []
    for i, text in enumerate(objects):
        if not isinstance(text, str):
            raise PayloadError(f"objects[{i}] is not a 'id|left|top|right|bottom|label' string")
        fields = text.split("|")
        if len(fields) < 6:
            raise PayloadError(
                f"objects[{i}] has {len(fields)} fields; the minimal schema writes at least "
                "'id|left|top|right|bottom|label'"
            )
        confidence = None
        if len(fields) > 7 and fields[6] == "#":
            confidence = _number(fields[-1], f"objects[{i}] confidence")
        out.append(
            DsObject(
                tracking_id=fields[0],
                box=_box(*fields[1:5]),
                label=fields[5],
                confidence=confidence,
                embedding=None,
            )
        )
    return DsFrame(
        Schema.MINIMAL,
        _sensor(doc.get("sensorId"), "sensorId"),
        _timestamp(doc.get("@timestamp")),
        tuple(out),
    )


_FULL_NOT_KINDS: Final = frozenset({"bbox", "location", "coordinate", "pose", "embedding"})


def _full(doc: dict[str, Any]) -> DsFrame:
    sensor = doc.get("sensor")
    obj = doc.get("object")
    if not isinstance(sensor, dict):
        raise PayloadError("'sensor' is missing; the full schema carries sensor.id")
    if not isinstance(obj, dict):
        raise PayloadError("'object' is not an object")
    bbox = obj.get("bbox")
    if not isinstance(bbox, dict):
        raise PayloadError("'object.bbox' is missing")
    keys = ("topleftx", "toplefty", "bottomrightx", "bottomrighty")
    if any(k not in bbox for k in keys):
        raise PayloadError("'object.bbox' needs topleftx, toplefty, bottomrightx, bottomrighty")
    # The object's kind is the key of its attribute object: "person", "vehicle", "face" from
    # event metadata; the detector's label (e.g. "Person") from frame metadata (msg2p-new-api).
    label, confidence = "", None
    for kind, value in obj.items():
        if kind not in _FULL_NOT_KINDS and isinstance(value, dict):
            label = kind
            if "confidence" in value:
                confidence = _number(value["confidence"], f"object.{kind}.confidence")
            break
    tracking_id = obj.get("id")
    if not isinstance(tracking_id, str | int) or str(tracking_id) == "":
        raise PayloadError("'object.id' (the tracking id) is missing")
    ds_object = DsObject(
        tracking_id=str(tracking_id),
        box=_box(*(bbox[k] for k in keys)),
        label=label,
        confidence=confidence,
        embedding=_embedding(obj.get("signature")),
    )
    return DsFrame(
        Schema.FULL,
        _sensor(sensor.get("id"), "sensor.id"),
        _timestamp(doc.get("@timestamp")),
        (ds_object,),
    )


def _protobuf(data: bytes) -> DsFrame:
    try:
        frame = decode_frame(data)
    except ProtoError as exc:
        raise PayloadError(f"neither JSON nor a DeepStream protobuf nv.Frame: {exc}") from None
    at = timestamp_of(frame)
    if at is None or not frame.sensorId:
        raise PayloadError(
            "not a DeepStream protobuf nv.Frame: no timestamp or sensorId (is it a payload of "
            "another schema?)"
        )
    if len(frame.objects) > MAX_OBJECTS:
        raise PayloadError(f"more than {MAX_OBJECTS} objects in one frame")
    out = []
    for o in frame.objects:
        b = o.bbox
        vector = tuple(float(v) for v in o.embedding.vector) if o.HasField("embedding") else ()
        out.append(
            DsObject(
                tracking_id=str(o.id),
                box=_box(b.leftX, b.topY, b.rightX, b.bottomY),
                label=str(o.type),
                confidence=float(o.confidence),
                embedding=vector or None,
            )
        )
    return DsFrame(Schema.PROTOBUF, _sensor(frame.sensorId, "sensorId"), at, tuple(out))
