"""DeepStream's protobuf schema (``nv.Frame``), built in Python from ``schema.proto``'s fields.

The descriptor is written out field by field here, so no protoc runs at build time; a test
parses ``schema.proto`` and checks that every message, field name, number, type and label agree.
Only this module imports protobuf.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2
from google.protobuf.message import DecodeError

__all__ = ["FIELDS", "ProtoError", "decode_frame", "encode_frame", "frame_class", "timestamp_of"]

_T = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _T.LABEL_OPTIONAL, _T.LABEL_REPEATED

FIELDS: Final[dict[str, list[tuple[str, int, str, bool]]]] = {
    # message: (field name, number, type — a scalar type or a message name —, repeated)
    "Frame": [
        ("version", 1, "string", False),
        ("id", 2, "string", False),
        ("timestamp", 3, "google.protobuf.Timestamp", False),
        ("sensorId", 4, "string", False),
        ("objects", 5, "Object", True),
    ],
    "Object": [
        ("id", 1, "string", False),
        ("bbox", 2, "Bbox", False),
        ("type", 3, "string", False),
        ("confidence", 4, "float", False),
        ("info", 5, "map<string, string>", False),
        ("embedding", 6, "Embedding", False),
    ],
    "Bbox": [
        ("leftX", 1, "float", False),
        ("topY", 2, "float", False),
        ("rightX", 3, "float", False),
        ("bottomY", 4, "float", False),
    ],
    "Embedding": [
        ("vector", 1, "float", True),
        ("info", 2, "map<string, string>", False),
    ],
}
"""The messages of ``schema.proto`` footfall reads, as written there."""

_SCALARS: Final = {"string": _T.TYPE_STRING, "float": _T.TYPE_FLOAT}
_MAP: Final = "map<string, string>"


class ProtoError(ValueError):
    """The bytes are not a DeepStream ``nv.Frame``."""


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="footfall/deepstream/schema.proto",
        package="nv",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    for name, fields in FIELDS.items():
        msg = file.message_type.add(name=name)
        for field_name, number, kind, repeated in fields:
            field = msg.field.add(name=field_name, number=number, json_name=field_name)
            field.label = _REPEATED if repeated else _OPTIONAL
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            elif kind == _MAP:
                entry_name = field_name[:1].upper() + field_name[1:] + "Entry"
                entry = msg.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, type=_T.TYPE_STRING, label=_OPTIONAL)
                entry.field.add(name="value", number=2, type=_T.TYPE_STRING, label=_OPTIONAL)
                field.type = _T.TYPE_MESSAGE
                field.label = _REPEATED
                field.type_name = f".nv.{name}.{entry_name}"
            else:
                field.type = _T.TYPE_MESSAGE
                field.type_name = f".{kind}" if "." in kind else f".nv.{kind}"
            if repeated and kind in _SCALARS and kind != "string":
                field.options.packed = True
    return file


def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    timestamp = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp)
    pool.Add(timestamp)
    pool.Add(_file())
    return pool


_POOL: Final = _pool()
_FRAME: Final[Any] = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("nv.Frame"))


def frame_class() -> Any:
    """The ``nv.Frame`` message class."""
    return _FRAME


def decode_frame(data: bytes) -> Any:
    """Parse ``nv.Frame`` bytes; :class:`ProtoError` when they are not one."""
    frame = _FRAME()
    try:
        frame.ParseFromString(data)
    except (DecodeError, RuntimeError) as exc:
        raise ProtoError(f"not a DeepStream protobuf nv.Frame ({exc})") from None
    return frame


def timestamp_of(frame: Any) -> datetime | None:
    """The frame's ``timestamp`` as an aware UTC datetime (microseconds); None when unset."""
    if not frame.HasField("timestamp"):
        return None
    ts = frame.timestamp
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        seconds=int(ts.seconds), microseconds=int(ts.nanos) // 1000
    )


def encode_frame(
    sensor_id: str,
    frame_id: str,
    at: datetime,
    objects: list[dict[str, Any]],
) -> bytes:
    """An ``nv.Frame`` payload as DeepStream sends it (``version`` 4.0); for tests and tools.

    Each object: ``id``, ``bbox`` (left, top, right, bottom), ``type``, ``confidence`` and an
    optional ``embedding`` (list of floats).
    """
    frame = _FRAME(version="4.0", id=frame_id, sensorId=sensor_id)
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    whole = delta.days * 86400 + delta.seconds
    frame.timestamp.seconds = whole
    frame.timestamp.nanos = delta.microseconds * 1000
    for o in objects:
        obj = frame.objects.add(id=o["id"], type=o["type"], confidence=o["confidence"])
        left, top, right, bottom = o["bbox"]
        obj.bbox.leftX, obj.bbox.topY, obj.bbox.rightX, obj.bbox.bottomY = left, top, right, bottom
        if o.get("embedding") is not None:
            obj.embedding.vector.extend(o["embedding"])
    return bytes(frame.SerializeToString())
