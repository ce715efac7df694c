"""The DeepStream bridge without a broker: payloads → frames, tracklets, heartbeats."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deepstream_payloads import encode, image_frames
from synthetic import camera_frames

from cloud.deepstream.bridge import Bridge, BridgeSettings, BridgeState
from cloud.deepstream.payloads import PayloadError, Schema, parse
from cloud.deepstream.proto import FIELDS, encode_frame
from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    decode,
)
from footfall.contract import (
    encode as encode_message,
)
from footfall.site import load_site

REPO = Path(__file__).resolve().parents[2]
SITE = load_site(REPO / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SCHEMAS = ("minimal", "full", "protobuf")


def reference(camera_id: str = "pets-view1", seconds: float = 60) -> list[FrameObservations]:
    camera = SITE.camera(camera_id)
    frames = camera_frames(SITE, camera, T0, seconds, 5.0, 8.0, seed=4)
    return image_frames(frames, SITE)


def run(payloads: list[bytes], bridge: Bridge | None = None) -> list[Message]:
    bridge = bridge or Bridge([SITE], BridgeSettings())
    out: list[Message] = []
    for p in payloads:
        out += bridge.feed(parse(p), 0.0)
    return out + bridge.flush()


def observed(messages: list[Message]) -> list[tuple[object, ...]]:
    """Frames as (time, sorted boxes and floor positions): what the analytics read (positions
    to the nanometre: numpy projects a batch of points with last-digit differences)."""
    return [
        (
            m.captured_at,
            sorted((t.box, tuple(round(c, 9) for c in t.floor_xy or ())) for t in m.tracks),
        )
        for m in messages
        if isinstance(m, FrameObservations) and m.tracks
    ]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_each_schema_gives_the_reference_frames_and_tracklets(schema: str) -> None:
    ref = reference()
    assert sum(len(f.tracks) for f in ref) > 100
    out = run(encode(ref, schema))
    for m in out:  # every message is valid on the wire
        assert decode(encode_message(m)) == m
    assert observed(out) == observed(list(ref))
    starts = [m for m in out if isinstance(m, TrackletStarted)]
    ends = [m for m in out if isinstance(m, TrackletEnded)]
    ref_tracks: dict[str, list[datetime]] = {}
    for f in ref:
        for t in f.tracks:
            ref_tracks.setdefault(t.track_id, []).append(f.captured_at)
    # A tracklet per reference track (none of them pauses for the 2 s timeout), same times.
    assert sorted((m.started_at, m.ended_at, m.frame_count) for m in ends) == sorted(
        (v[0], v[-1], len(v)) for v in ref_tracks.values()
    )
    assert {m.track_id for m in starts} == {m.track_id for m in ends}
    # Anonymous: hex ids, not DeepStream's integers; one run id for the camera.
    assert all(re.fullmatch(r"[0-9a-f]{16}", m.track_id) for m in starts)
    assert len({m.run_id for m in out if hasattr(m, "run_id")}) == 1


def test_a_restart_from_the_saved_state_sends_the_same_messages() -> None:
    payloads = encode(reference(), "full")
    key = BridgeState().key
    once = run(payloads, Bridge([SITE], BridgeSettings(), BridgeState(key=key)))
    first = Bridge([SITE], BridgeSettings(), BridgeState(key=key))
    half = len(payloads) // 2
    out: list[Message] = []
    for p in payloads[:half]:
        out += first.feed(parse(p), 0.0)
    saved = json.loads(json.dumps(first.state.to_json()))
    again = Bridge([SITE], BridgeSettings(), BridgeState.from_json(saved))
    for p in payloads[half:]:
        out += again.feed(parse(p), 0.0)
    out += again.flush()
    assert [encode_message(m) for m in out] == [encode_message(m) for m in once]
    # Another state (another key) gives other ids for the same people.
    other = run(payloads)
    assert {m.track_id for m in other if isinstance(m, TrackletStarted)}.isdisjoint(
        {m.track_id for m in once if isinstance(m, TrackletStarted)}
    )


def test_redelivered_and_late_objects_are_dropped_once() -> None:
    payloads = encode(reference(seconds=20), "full")
    twice = [p for p in payloads for _ in range(2)]
    assert observed(run(twice)) == observed(run(payloads))
    bridge = Bridge([SITE], BridgeSettings())
    out = run(payloads + payloads[:5], bridge)
    assert observed(out) == observed(run(payloads)) and bridge.counts.late_objects == 5


def test_embeddings_become_the_tracklets_mean() -> None:
    ref = reference(seconds=20)
    track = next(t.track_id for f in ref for t in f.tracks)
    vector = [0.0] * 128
    vector[3] = 2.0  # not unit length: the bridge normalises
    for schema in ("full", "protobuf"):
        out = run(encode(ref, schema, embeddings={track: vector}))
        ends = [m for m in out if isinstance(m, TrackletEnded) and m.embedding is not None]
        assert len(ends) == 1 and ends[0].embedding is not None
        assert ends[0].embedding[3] == pytest.approx(1.0)
        assert ends[0].embedding_model == "deepstream" and ends[0].quality == 1.0


def test_heartbeats_every_interval_of_the_cameras_time() -> None:
    out = run(encode(reference(seconds=95), "minimal"))
    beats = [m for m in out if isinstance(m, CameraHeartbeat)]
    assert [b.sent_at for b in beats] == [
        T0.replace(second=30),
        T0.replace(minute=1),
        T0.replace(minute=1, second=30),
    ]
    assert all(b.frames == 150 and b.fps == 5.0 and b.target_fps == 7.0 for b in beats)


def test_boxes_are_scaled_from_the_streammux_frame() -> None:
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    payload = encode_frame(
        "pets-view1", "1", at, [{"id": "7", "bbox": (960, 540, 1000, 1080), "type": "Person",
                                 "confidence": 0.5}]
    )  # fmt: skip
    bridge = Bridge([SITE], BridgeSettings(box_size=(1920, 1080)))
    frame = next(m for m in bridge.feed(parse(payload), 0.0) if isinstance(m, FrameObservations))
    assert frame.tracks[0].box == (384.0, 288.0, 400.0, 576.0)  # 768 x 576 camera


def test_other_objects_and_unknown_sensors() -> None:
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    car = {"id": "1", "bbox": (1, 1, 50, 50), "type": "Vehicle", "confidence": 0.9}
    bridge = Bridge([SITE], BridgeSettings())
    out = bridge.feed(parse(encode_frame("pets-view1", "1", at, [car])), 0.0)
    assert [len(m.tracks) for m in out if isinstance(m, FrameObservations)] == [0]
    assert bridge.counts.other_objects == 1
    with pytest.raises(PayloadError, match="'cam-9' is not a camera of the bridge's site"):
        bridge.feed(parse(encode_frame("cam-9", "1", at, [car])), 0.0)
    # <site>/<camera> works too
    assert bridge.feed(parse(encode_frame("demo/tud-stadtmitte", "1", at, [car])), 0.0)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "no timestamp or sensorId"),
        (b"\xff\xff\xff", "neither JSON nor a DeepStream protobuf"),
        (b"{not json", "not JSON"),
        (b'{"hello": 1}', "JSON without 'objects'"),
        (b'{"objects": [], "sensorId": "pets-view1"}', "'@timestamp' is missing"),
        (
            b'{"objects": ["1|2|3"], "sensorId": "x", "@timestamp": "2026-11-20T09:00:00Z"}',
            "objects[0] has 3 fields",
        ),
        (
            b'{"objects": ["1|2|3|4|5|Person"], "sensorId": "x", "@timestamp": "yesterday"}',
            "is not RFC 3339",
        ),
        (b'{"object": {"id": "1"}, "sensor": {"id": "x"}}', "'object.bbox' is missing"),
        (b"\x0a\x034.0", "no timestamp or sensorId"),
    ],
)
def test_bad_payloads_say_why(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=re.escape(reason)):
        parse(payload)


def test_schema_is_told_apart() -> None:
    ref = reference(seconds=5)
    assert {parse(p).schema for s in SCHEMAS for p in encode(ref, s)} == set(Schema)


def test_schema_proto_and_the_python_descriptor_agree() -> None:
    """cloud/deepstream/schema.proto (written from NVIDIA's) and proto.FIELDS: same messages,
    field names, numbers, types and labels."""
    text = (REPO / "cloud" / "deepstream" / "schema.proto").read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*", "", text)
    found: dict[str, list[tuple[str, int, str, bool]]] = {}
    for name, body in re.findall(r"message\s+(\w+)\s*\{([^}]*)\}", text):
        fields = []
        for line in body.split(";"):
            m = re.match(
                r"\s*(repeated\s+)?(map<\s*string,\s*string\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)", line
            )
            if m:
                kind = re.sub(r"\s+", " ", m.group(2)).replace("map<string,string>", "")
                kind = "map<string, string>" if kind.startswith("map<") else kind
                fields.append((m.group(3), int(m.group(4)), kind, bool(m.group(1))))
        found[name] = fields
    assert found == FIELDS


def test_a_restored_bridge_waits_before_ending_tracks_by_the_wall_clock() -> None:
    payloads = encode(reference(seconds=20), "minimal")
    first = Bridge([SITE], BridgeSettings(track_timeout_s=2.0))
    for p in payloads[:30]:
        first.feed(parse(p), 100.0)
    assert first.tick(101.0) == []  # 1 s of silence: tracks stay open
    ended = [m for m in first.tick(102.5) if isinstance(m, TrackletEnded)]
    assert ended  # 2.5 s of silence: they end
    again = Bridge([SITE], BridgeSettings())
    for p in payloads[:30]:
        again.feed(parse(p), 100.0)
    restored = Bridge([SITE], BridgeSettings(), BridgeState.from_json(again.state.to_json()))
    assert restored.tick(5000.0) == []  # just restarted: silence counts from now
    assert [m for m in restored.tick(5003.0) if isinstance(m, TrackletEnded)]


def test_frame_metadata_payloads_and_untracked_objects() -> None:
    """With msg2p-new-api the full schema names the object's attributes by the detector's
    label ("Person"); objects the tracker does not follow carry UNTRACKED_OBJECT_ID."""
    doc = {
        "messageid": "m",
        "mdsversion": "1.0",
        "@timestamp": "2026-11-20T09:00:00.200Z",
        "sensor": {"id": "pets-view1"},
        "object": {
            "id": "5",
            "speed": 0,
            "Person": {"confidence": 0.7},
            "bbox": {"topleftx": 10, "toplefty": 20, "bottomrightx": 50, "bottomrighty": 120},
            "location": {},
            "coordinate": {},
        },
    }
    frame = parse(json.dumps(doc).encode())
    assert frame.objects[0].label == "Person" and frame.objects[0].confidence == 0.7
    untracked = f"{2**64 - 1}|1|2|30|40|Person"
    minimal = {
        "version": "4.0",
        "id": "3",
        "@timestamp": "2026-11-20T09:00:00.200Z",
        "sensorId": "pets-view1",
        "objects": [untracked, "8|1|2|30|40|person"],
    }
    bridge = Bridge([SITE], BridgeSettings())
    out = bridge.feed(parse(json.dumps(minimal).encode()), 0.0)
    assert [len(m.tracks) for m in out if isinstance(m, FrameObservations)] == [1]
