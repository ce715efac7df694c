"""DeepStream payloads built to nvmsgconv's published sources, from contract frames (tests only).

``encode(frames, schema)`` re-encodes footfall contract frames (of one camera) as what a
DeepStream node would send for the same tracks: the minimal schema (one JSON message per frame,
``objects`` as ``id|left|top|right|bottom|Person|#|…|confidence``), the full schema (one JSON
message per object, integer ``bbox`` as json-glib writes it, ``object.signature`` for the
embedding) or protobuf ``nv.Frame`` (one per frame). Tracking ids are DeepStream's: increasing
integers per camera. Timestamps are written as nvmsgconv does, to the millisecond.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from cloud.deepstream.proto import encode_frame
from footfall.contract import FrameObservations


def rfc3339_ms(at: datetime) -> str:
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def tracking_ids(frames: Iterable[FrameObservations]) -> dict[str, str]:
    """Contract track id → a DeepStream tracking id (increasing integers, as NvDCF gives)."""
    out: dict[str, str] = {}
    for frame in frames:
        for t in frame.tracks:
            out.setdefault(t.track_id, str(len(out) + 1))
    return out


def encode(
    frames: Sequence[FrameObservations],
    schema: str,
    sensor_id: str | None = None,
    embeddings: dict[str, list[float]] | None = None,
) -> list[bytes]:
    """Payloads for ``frames`` in ``schema`` (minimal, full, protobuf); frames with nobody in
    view are sent by the per-frame schemas, not by the full schema (it has no object)."""
    ids = tracking_ids(frames)
    out: list[bytes] = []
    for frame in frames:
        sensor = sensor_id or frame.camera_id
        stamp = rfc3339_ms(frame.captured_at)
        if schema == "minimal":
            objects = [
                f"{ids[t.track_id]}|{t.box[0]:g}|{t.box[1]:g}|{t.box[2]:g}|{t.box[3]:g}|Person"
                f"|#|male|30|black|none|coat|{t.confidence:g}"
                for t in frame.tracks
            ]
            doc = {
                "version": "4.0",
                "id": str(frame.frame_index),
                "@timestamp": stamp,
                "sensorId": sensor,
                "objects": objects,
            }
            out.append(json.dumps(doc, indent=2).encode())
        elif schema == "full":
            for t in frame.tracks:
                obj: dict[str, object] = {
                    "id": ids[t.track_id],
                    "speed": 0.0,
                    "direction": 0.0,
                    "orientation": 0.0,
                    "person": {
                        "age": 0,
                        "gender": "",
                        "hair": "",
                        "cap": "",
                        "apparel": "",
                        "confidence": t.confidence,
                    },
                    "bbox": {
                        "topleftx": int(t.box[0]),
                        "toplefty": int(t.box[1]),
                        "bottomrightx": int(t.box[2]),
                        "bottomrighty": int(t.box[3]),
                    },
                    "location": {"lat": 0.0, "lon": 0.0, "alt": 0.0},
                    "coordinate": {"x": 0.0, "y": 0.0, "z": 0.0},
                }
                if embeddings and t.track_id in embeddings:
                    obj["signature"] = embeddings[t.track_id]
                doc = {
                    "messageid": str(uuid.uuid4()),
                    "mdsversion": "1.0",
                    "@timestamp": stamp,
                    "place": {"id": frame.site_id, "name": "", "type": "mall"},
                    "sensor": {"id": sensor, "type": "Camera", "description": ""},
                    "analyticsModule": {"id": "footfall", "source": "DeepStream"},
                    "object": obj,
                    "event": {"id": str(uuid.uuid4()), "type": "moving"},
                    "videoPath": "",
                }
                out.append(json.dumps(doc, indent=2).encode())
        elif schema == "protobuf":
            objects_pb = [
                {
                    "id": ids[t.track_id],
                    "bbox": t.box,
                    "type": "Person",
                    "confidence": t.confidence,
                    "embedding": (embeddings or {}).get(t.track_id),
                }
                for t in frame.tracks
            ]
            at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            out.append(encode_frame(sensor, str(frame.frame_index), at, objects_pb))
        else:
            raise ValueError(schema)
    return out


def image_frames(
    frames: Iterable[FrameObservations], site: object, box_w: int = 40, box_h: int = 100
) -> list[FrameObservations]:
    """``frames`` (with floor positions) as a camera would see them: integer boxes whose bottom
    centre is the floor position mapped into the image, and the floor position that bottom
    centre maps back to (as the edge and the bridge compute it). A track ends where it first
    leaves the image (no gaps: a tracker would give it a new id when it came back). Every box
    is whole pixels, so every DeepStream schema carries it exactly."""
    import numpy as np

    from footfall.deepstream.geometry import CameraView
    from footfall.site import Site

    assert isinstance(site, Site)
    views: dict[str, CameraView] = {}
    seen: set[tuple[str, str]] = set()
    left: set[tuple[str, str]] = set()  # tracks that walked out of the image: ended there
    out = []
    for frame in frames:
        camera = site.camera(frame.camera_id)
        view = views.setdefault(camera.id, CameraView(camera))
        width, height = camera.resolution
        tracks = []
        for t in frame.tracks:
            assert t.floor_xy is not None
            if (camera.id, t.track_id) in left:
                continue
            u, v = (round(float(c)) for c in view.to_image([t.floor_xy])[0])
            if not (box_w <= u <= width - box_w and box_h < v <= height):
                if (camera.id, t.track_id) in seen:
                    left.add((camera.id, t.track_id))
                continue
            seen.add((camera.id, t.track_id))
            box = (float(u - box_w // 2), float(v - box_h), float(u + box_w // 2), float(v))
            fx, fy = camera.project_to_floor(np.array([[u, v]], dtype=np.float64))[0]
            tracks.append(t.model_copy(update={"box": box, "floor_xy": (float(fx), float(fy))}))
        out.append(frame.model_copy(update={"tracks": tuple(tracks)}))
    return out
