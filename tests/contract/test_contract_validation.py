"""Invalid messages: decode raises one ContractError whose text is one sentence naming the field."""

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from footfall.contract import MAX_MESSAGE_BYTES, ContractError, decode
from footfall.contract.errors import MAX_REASON_CHARS

Wire = dict[str, dict[str, Any]]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def assert_one_sentence(error: ContractError) -> str:
    text = str(error)
    assert text, "the reason must not be empty"
    assert "\n" not in text and "\r" not in text, f"not one line: {text!r}"
    assert len(text) <= MAX_REASON_CHARS
    assert "validation error" not in text.lower(), f"raw pydantic text leaked: {text!r}"
    assert "errors.pydantic.dev" not in text, f"raw pydantic text leaked: {text!r}"
    return text


def rejects(data: bytes) -> str:
    """Decode ``data``, which must fail with a ContractError (and nothing else)."""
    with pytest.raises(ContractError) as caught:
        decode(data)
    assert type(caught.value) is ContractError
    assert isinstance(caught.value, ValueError)
    assert caught.value.__cause__ is None, "the pydantic/JSON error must not be chained"
    return assert_one_sentence(caught.value)


def _set(kind: str, path: tuple[Any, ...], value: Any) -> Callable[[Wire], bytes]:
    def mutate(wire: Wire) -> bytes:
        obj = wire[kind]
        for part in path[:-1]:
            obj = obj[part]
        obj[path[-1]] = value
        return dumps(wire[kind])

    return mutate


def _drop(kind: str, path: tuple[Any, ...]) -> Callable[[Wire], bytes]:
    def mutate(wire: Wire) -> bytes:
        obj = wire[kind]
        for part in path[:-1]:
            obj = obj[part]
        del obj[path[-1]]
        return dumps(wire[kind])

    return mutate


def _scale_embedding(wire: Wire) -> bytes:
    end = wire["tracklet_end"]
    end["embedding"] = [v * 3.2 for v in end["embedding"]]
    return dumps(end)


def _start_embedding_without_model(wire: Wire) -> bytes:
    start = wire["tracklet_start"]
    del start["embedding_model"]
    return dumps(start)


def _duplicate_track(wire: Wire) -> bytes:
    frame = wire["frame"]
    frame["tracks"][1]["track_id"] = frame["tracks"][0]["track_id"]
    return dumps(frame)


def _too_many_tracks(wire: Wire) -> bytes:
    frame = wire["frame"]
    track = frame["tracks"][1]
    frame["tracks"] = [dict(track, track_id=f"{i:08x}") for i in range(501)]
    return dumps(frame)


def _nan_token(wire: Wire) -> bytes:
    text = dumps(wire["frame"]).decode()
    return text.replace('"confidence": 0.87', '"confidence": NaN').encode()


def _infinity_token(wire: Wire) -> bytes:
    text = dumps(wire["heartbeat"]).decode()
    return text.replace('"fps": 9.8', '"fps": Infinity').encode()


# (case id, how to break a valid message, field path expected in the sentence, words expected)
CASES: list[tuple[str, Callable[[Wire], bytes], str, str]] = [
    (
        "naive timestamp",
        _set("frame", ("captured_at",), "2024-05-01T12:00:00"),
        "frame.captured_at",
        "naive timestamp",
    ),
    (
        "naive ended_at",
        _set("tracklet_end", ("ended_at",), "2024-05-01T12:00:09.5"),
        "tracklet_end.ended_at",
        "naive timestamp",
    ),
    (
        "timestamp as a number",
        _set("heartbeat", ("sent_at",), 1714564800),
        "heartbeat.sent_at",
        "ISO 8601",
    ),
    (
        "timestamp with a space",
        _set("frame", ("captured_at",), "2024-05-01 12:00:00Z"),
        "frame.captured_at",
        "ISO 8601",
    ),
    (
        "clock never set",
        _set("frame", ("captured_at",), "1970-01-01T00:00:05Z"),
        "frame.captured_at",
        "clock",
    ),
    (
        "unnormalised embedding",
        _scale_embedding,
        "tracklet_end.embedding",
        "not L2-normalised (norm 3.2)",
    ),
    (
        "embedding too short",
        _set("tracklet_end", ("embedding",), [1.0] + [0.0] * 62),
        "tracklet_end.embedding",
        "at least 64",
    ),
    (
        "embedding without its model",
        _start_embedding_without_model,
        "tracklet_start",
        "embedding_model is required",
    ),
    (
        "extra field",
        _set("heartbeat", ("face_crop",), "aGVsbG8="),
        "heartbeat.face_crop",
        "unknown field",
    ),
    (
        "extra field in a track",
        _set("frame", ("tracks", 0, "pixels"), [1, 2, 3]),
        "frame.tracks[0].pixels",
        "unknown field",
    ),
    ("NaN confidence", _nan_token, "frame.tracks[0].confidence", "finite number"),
    ("infinite fps", _infinity_token, "heartbeat.fps", "finite number"),
    (
        "confidence above 1",
        _set("frame", ("tracks", 0, "confidence"), 1.5),
        "frame.tracks[0].confidence",
        "less than or equal to 1",
    ),
    (
        "negative box",
        _set("frame", ("tracks", 0, "box"), [-5.0, 10.0, 50.0, 90.0]),
        "frame.tracks[0].box[0]",
        "greater than or equal to 0",
    ),
    (
        "inverted box",
        _set("frame", ("tracks", 0, "box"), [50.0, 10.0, 40.0, 90.0]),
        "frame.tracks[0].box",
        "x2 must be greater than x1",
    ),
    (
        "box with three numbers",
        _set("frame", ("tracks", 0, "box"), [1.0, 2.0, 3.0]),
        "frame.tracks[0].box",
        "too few items (item [3] is missing)",
    ),
    (
        "box outside the image",
        _set("frame", ("tracks", 0, "box"), [100.0, 100.0, 2000.0, 200.0]),
        "frame",
        "tracks[0].box x2=2000 exceeds image_width=1920",
    ),
    (
        "floor_xy without floor_id",
        _drop("frame", ("tracks", 0, "floor_id")),
        "frame.tracks[0]",
        "floor_xy is given without floor_id",
    ),
    (
        "floor_id without floor_xy",
        _drop("frame", ("tracks", 0, "floor_xy")),
        "frame.tracks[0]",
        "floor_id is given without floor_xy",
    ),
    ("duplicate track ids", _duplicate_track, "frame", "tracks[1].track_id is a duplicate"),
    ("too many tracks", _too_many_tracks, "frame.tracks", "at most 500"),
    (
        "bad site id",
        _set("frame", ("site_id",), "Mall 1"),
        "frame.site_id",
        "pattern",
    ),
    (
        "bad track id",
        _set("frame", ("tracks", 0, "track_id"), "person-42"),
        "frame.tracks[0].track_id",
        "pattern",
    ),
    (
        "uppercase run id",
        _set("tracklet_end", ("run_id",), "0123456789ABCDEF"),
        "tracklet_end.run_id",
        "pattern",
    ),
    (
        "wrong schema_version",
        _set("frame", ("schema_version",), 2),
        "frame.schema_version",
        "only version 1",
    ),
    (
        "missing schema_version",
        _drop("heartbeat", ("schema_version",)),
        "heartbeat.schema_version",
        "missing",
    ),
    (
        "missing field",
        _drop("tracklet_end", ("frame_count",)),
        "tracklet_end.frame_count",
        "missing",
    ),
    (
        "integer as a string",
        _set("frame", ("frame_index",), "42"),
        "frame.frame_index",
        "valid integer",
    ),
    (
        "ended before started",
        _set("tracklet_end", ("ended_at",), "2024-05-01T11:59:59Z"),
        "tracklet_end",
        "ended_at (2024-05-01T11:59:59Z) is before started_at",
    ),
    (
        "unknown status",
        _set("heartbeat", ("status",), "on-fire"),
        "heartbeat.status",
        "'ok', 'degraded', 'offline' or 'error'",
    ),
    (
        "multi-line detail",
        _set("heartbeat", ("detail",), "line one\nline two"),
        "heartbeat.detail",
        "pattern",
    ),
    (
        "over-long detail",
        _set("heartbeat", ("detail",), "x" * 201),
        "heartbeat.detail",
        "at most 200",
    ),
    ("unknown kind", _set("frame", ("kind",), "selfie"), "kind", "unknown message kind 'selfie'"),
    ("missing kind", _drop("frame", ("kind",)), "kind", "missing"),
]


@pytest.mark.parametrize(
    ("breaker", "field", "words"),
    [pytest.param(b, f, w, id=case) for case, b, f, w in CASES],
)
def test_invalid_message_gives_one_sentence_naming_the_field(
    wire: Wire, breaker: Callable[[Wire], bytes], field: str, words: str
) -> None:
    text = rejects(breaker(wire))
    assert text.startswith(f"{field}: "), f"expected the sentence to start with {field!r}: {text}"
    assert words in text, f"expected {words!r} in: {text}"


def test_the_valid_wire_examples_are_valid(wire: Wire) -> None:
    # Guards the cases above: each breaks exactly one thing in a message that decodes.
    for obj in wire.values():
        decode(dumps(obj))


def test_several_problems_are_counted_in_the_same_sentence(wire: Wire) -> None:
    frame = wire["frame"]
    frame["site_id"] = "BAD"
    frame["camera_id"] = "ALSO BAD"
    text = rejects(dumps(frame))
    assert text == (
        "frame.site_id: string should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$' "
        "(and 1 more problem)"
    )


def test_exact_sentence_for_an_unnormalised_embedding(wire: Wire) -> None:
    assert rejects(_scale_embedding(wire)) == (
        "tracklet_end.embedding: not L2-normalised (norm 3.2); normalise it before sending"
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(b"", "not valid JSON", id="empty"),
        pytest.param(b"{not json", "not valid JSON", id="garbage"),
        pytest.param(b'{"kind": "frame"', "not valid JSON", id="truncated"),
        pytest.param(b"\xff\xfe\x00", "not valid JSON", id="not utf-8"),
        pytest.param(b"[1, 2, 3]", "not a JSON object", id="array"),
        pytest.param(b'"frame"', "not a JSON object", id="string"),
        pytest.param(b"42", "not a JSON object", id="number"),
        pytest.param(b"null", "not a JSON object", id="null"),
    ],
)
def test_not_a_json_object(data: bytes, words: str) -> None:
    text = rejects(data)
    assert text.startswith("message: "), text
    assert words in text, text


def test_too_large_message_is_rejected_before_parsing() -> None:
    text = rejects(b" " * (MAX_MESSAGE_BYTES + 1))
    assert text.startswith("message: too large"), text


def test_decode_rejects_non_bytes() -> None:
    with pytest.raises(ContractError, match="expected bytes, got int"):
        decode(42)  # type: ignore[arg-type]


def test_reason_is_truncated_to_one_short_sentence() -> None:
    error = ContractError("word " * 200 + "\n second line", "frame.tracks[0].box")
    text = assert_one_sentence(error)
    assert text.startswith("frame.tracks[0].box: word word")
    assert text.endswith("...")
    assert error.field == "frame.tracks[0].box"


# Python-side construction validates too (pydantic's ValidationError, also a ValueError).


def test_nan_confidence_rejected_in_python(make_frame: Any) -> None:
    from footfall.contract import TrackObservation

    with pytest.raises(ValidationError, match="finite number"):
        TrackObservation(track_id="deadbeef", box=(0, 0, 10, 10), confidence=math.nan)
    with pytest.raises(ValidationError):
        make_frame(image_width=math.inf)


def test_embedding_norm_tolerance(make_tracklet_end: Any, unit_vector: Any) -> None:
    vector = unit_vector(256)
    make_tracklet_end(embedding=[v * 1.0009 for v in vector])  # within 1e-3
    with pytest.raises(ValidationError, match=r"not L2-normalised \(norm 1\.002\)"):
        make_tracklet_end(embedding=[v * 1.002 for v in vector])
    with pytest.raises(ValidationError, match=r"not L2-normalised \(norm 0\)"):
        make_tracklet_end(embedding=[0.0] * 256)


def test_tracklet_start_embedding_rules(make_tracklet_start: Any, unit_vector: Any) -> None:
    with pytest.raises(ValidationError, match="embedding_model is given without an embedding"):
        make_tracklet_start(embedding_model="osnet_x0_25_msmt17")
    with pytest.raises(ValidationError, match="quality is given without an embedding"):
        make_tracklet_start(quality=0.5)
    start = make_tracklet_start(embedding=unit_vector(64), embedding_model="mobilenetv2+hsv3")
    assert start.quality is None


def test_floor_id_and_floor_xy_both_or_neither() -> None:
    from footfall.contract import TrackObservation

    TrackObservation(track_id="deadbeef", box=(0, 0, 10, 10), confidence=0.5)
    TrackObservation(
        track_id="deadbeef", box=(0, 0, 10, 10), confidence=0.5, floor_id="l1", floor_xy=(1, 2)
    )
    with pytest.raises(ValidationError, match="floor_xy is given without floor_id"):
        TrackObservation(track_id="deadbeef", box=(0, 0, 10, 10), confidence=0.5, floor_xy=(1, 2))
