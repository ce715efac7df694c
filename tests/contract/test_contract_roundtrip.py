"""Encode -> decode round trips, timestamps, natural keys and immutability."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from footfall.contract import (
    SCHEMA_VERSION,
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    decode,
    encode,
    new_run_id,
    new_track_id,
)
from footfall.contract.messages import RUN_ID_PATTERN, TRACK_ID_PATTERN


def test_round_trip_equals(example: Message) -> None:
    data = encode(example)
    assert isinstance(data, bytes)
    decoded = decode(data)
    assert type(decoded) is type(example)
    assert decoded == example
    assert encode(decoded) == data


def test_every_kind_is_covered_by_the_examples(all_messages: list[Message]) -> None:
    kinds = {m.kind for m in all_messages}
    assert kinds == {"frame", "tracklet_start", "tracklet_end", "heartbeat"}


def test_encoding_is_compact_utf8_json_with_envelope(example: Message) -> None:
    data = encode(example)
    text = data.decode("utf-8")
    obj = json.loads(text)
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert not re.search(r"\s", outside_strings), "encode() must produce compact JSON"
    assert obj["schema_version"] == SCHEMA_VERSION == 1
    assert obj["kind"] == example.kind
    assert list(obj)[:5] == ["schema_version", "kind", "site_id", "camera_id", "node_id"]


def test_absent_optional_fields_are_omitted(make_tracklet_start: Any) -> None:
    obj = json.loads(encode(make_tracklet_start()))
    assert "embedding" not in obj and "embedding_model" not in obj and "quality" not in obj


def test_empty_frame_round_trips(make_frame: Any) -> None:
    frame = make_frame(tracks=[])
    decoded = decode(encode(frame))
    assert isinstance(decoded, FrameObservations)
    assert decoded.tracks == ()
    assert json.loads(encode(frame))["tracks"] == []


def test_box_and_floor_xy_are_compact_arrays(make_frame: Any) -> None:
    track = json.loads(encode(make_frame()))["tracks"][0]
    assert track["box"] == [100.5, 200.0, 180.25, 420.0]
    assert track["floor_xy"] == [12.5, -3.25]


def test_timestamps_serialise_as_utc_with_z(make_frame: Any) -> None:
    obj = json.loads(encode(make_frame()))
    assert obj["captured_at"] == "2024-05-01T12:00:00.123456Z"


def test_aware_non_utc_datetime_is_converted_to_utc(make_frame: Any) -> None:
    local = datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    frame = make_frame(captured_at=local)
    assert frame.captured_at.tzinfo is UTC
    assert frame.captured_at == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert json.loads(encode(frame))["captured_at"] == "2024-05-01T12:30:00Z"


def test_offset_timestamp_on_the_wire_is_converted_to_utc(make_frame: Any) -> None:
    obj = json.loads(encode(make_frame()))
    obj["captured_at"] = "2024-05-01T08:00:00-04:00"
    decoded = decode(json.dumps(obj).encode())
    assert decoded.captured_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # type: ignore[union-attr]
    assert decoded.captured_at.utcoffset() == timedelta(0)  # type: ignore[union-attr]


def test_naive_datetime_is_rejected_in_python(make_frame: Any) -> None:
    with pytest.raises(ValidationError, match="naive timestamp"):
        make_frame(captured_at=datetime(2024, 5, 1, 12, 0))


def test_natural_keys(
    make_frame: Any, make_tracklet_start: Any, make_tracklet_end: Any, make_heartbeat: Any
) -> None:
    frame: FrameObservations = make_frame()
    assert frame.natural_key() == ("mall-1", "cam_01", frame.captured_at)
    start: TrackletStarted = make_tracklet_start()
    end: TrackletEnded = make_tracklet_end()
    assert start.natural_key() == ("mall-1", "cam_01", start.run_id, "a1b2c3d4e5f60718")
    assert end.natural_key() == start.natural_key()
    beat: CameraHeartbeat = make_heartbeat()
    assert beat.natural_key() == ("mall-1", "cam_01", beat.sent_at)
    # A redelivered message has the same key; a different frame does not.
    assert decode(encode(frame)).natural_key() == frame.natural_key()
    later = make_frame(captured_at=frame.captured_at + timedelta(milliseconds=100))
    assert later.natural_key() != frame.natural_key()


def test_messages_are_frozen(example: Message) -> None:
    with pytest.raises(ValidationError):
        example.site_id = "other"
    hash(example)  # immutable all the way down, so hashable


def test_decode_accepts_bytearray_memoryview_and_str(example: Message) -> None:
    data = encode(example)
    assert decode(bytearray(data)) == example
    assert decode(memoryview(data)) == example
    assert decode(data.decode()) == example


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(TypeError):
        encode({"kind": "frame"})  # type: ignore[arg-type]


def test_id_helpers_are_random_and_valid() -> None:
    runs = {new_run_id() for _ in range(50)}
    tracks = {new_track_id() for _ in range(50)}
    assert len(runs) == 50 and len(tracks) == 50
    assert all(re.fullmatch(RUN_ID_PATTERN, r) for r in runs)
    assert all(re.fullmatch(TRACK_ID_PATTERN, t) for t in tracks)
