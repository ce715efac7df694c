"""DeepStream messages → footfall contract messages: frames, tracklets, heartbeats.

:class:`Bridge` is the whole translation, with no I/O (the Kafka loop is
:mod:`cloud.deepstream.service`):

* **Cameras.** A message's sensor id (``sensorId``, ``sensor.id``) names a site's camera:
  ``<site>/<camera>`` or, when no two sites share it, the bare camera id (what
  ``footfall deepstream config`` writes into nvmsgconv's ``[sensorN]``).
* **Frames.** Objects with one ``@timestamp`` of one sensor make one frame: the minimal schema
  and protobuf send a frame per message; the full schema sends an object per message, and its
  frame is complete when a later time of the sensor arrives or ``frame_wait_s`` passes. Objects
  of a time already sent are late (counted, dropped): a frame's natural key is its time.
* **Positions.** A box (scaled from ``box_size``, DeepStream's streammux frame, to the camera's
  resolution, clipped to it) stands at its bottom centre, mapped to the floor through the site's
  homography, as on ``footfall edge``.
* **Tracks.** DeepStream tracking ids become anonymous local track ids, scoped per run: an HMAC
  of the tracking id and the tracklet's start under a random key the bridge keeps in its state,
  so the ids say nothing and the same input always gives the same ids (restart-safe). A tracklet
  starts with its first frame and ends after ``track_timeout_s`` of the camera's time without
  it (or, when the camera's messages stop, of wall time); its end carries the mean of the
  objects' embeddings (full schema ``signature``, protobuf ``embedding.vector``) when there are.
* **Heartbeats.** DeepStream sends none: the bridge sends one per camera every
  ``heartbeat_interval_s`` of the camera's time, with the frames it got.

Everything the bridge remembers is in :class:`BridgeState` (JSON): with the same state and the
same records it sends the same messages, which is what makes restarts exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cloud.deepstream.payloads import DsFrame, DsObject, PayloadError, Schema
from footfall.contract import (
    EMBEDDING_MAX_DIMS,
    EMBEDDING_MIN_DIMS,
    MAX_FLOOR_EXTENT_M,
    MAX_FPS,
    MAX_TRACKS_PER_FRAME,
    CameraHeartbeat,
    CameraStatus,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
)
from footfall.site import Camera, Site

UNTRACKED_IDS = frozenset({"", "-1", str(2**64 - 1)})
"""Tracking ids of objects the tracker does not follow (DeepStream's UNTRACKED_OBJECT_ID is
the largest 64-bit integer): left out, like the edge's unconfirmed detections."""
EMBEDDINGS_FOR_FULL_QUALITY = 10
"""A tracklet embedding averaged over this many object embeddings has quality 1."""


@dataclass(frozen=True)
class BridgeSettings:
    node_id: str = "deepstream"
    labels: tuple[str, ...] = ("person",)
    """Object labels (case-insensitive) that are people; others are left out."""
    box_size: tuple[int, int] | None = None
    """The frame size DeepStream's boxes are in (streammux); None: the camera's resolution."""
    track_timeout_s: float = 2.0
    frame_wait_s: float = 1.0
    heartbeat_interval_s: float = 30.0
    embedding_model: str = "deepstream"


@dataclass
class TrackState:
    track_id: str
    started_at: datetime
    last_seen: datetime
    frames: int = 0
    embedding_sum: list[float] | None = None
    embeddings: int = 0


@dataclass
class CameraState:
    run_id: str
    frame_index: int = 0
    last_frame_at: datetime | None = None
    open_at: datetime | None = None
    open_objects: list[DsObject] = field(default_factory=list)
    tracks: dict[str, TrackState] = field(default_factory=dict)
    heartbeat_from: datetime | None = None
    heartbeat_frames: int = 0
    # wall clock (not saved; None after a restart until the next tick): when the open frame
    # opened, when the camera's last message came
    open_wall: float | None = None
    last_wall: float | None = None


@dataclass
class BridgeState:
    """All the bridge remembers: its id key, the next offsets and each camera's state."""

    key: str = field(default_factory=lambda: secrets.token_hex(32))
    offsets: dict[str, int] = field(default_factory=dict)
    """``"<topic>|<partition>"`` → the next offset to read."""
    cameras: dict[str, CameraState] = field(default_factory=dict)
    """``"<site>/<camera>"`` → its state."""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "key": self.key,
            "offsets": self.offsets,
            "cameras": {k: _camera_json(c) for k, c in self.cameras.items()},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> BridgeState:
        return cls(
            key=str(doc["key"]),
            offsets={str(k): int(v) for k, v in doc.get("offsets", {}).items()},
            cameras={k: _camera_from(c) for k, c in doc.get("cameras", {}).items()},
        )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _camera_json(c: CameraState) -> dict[str, Any]:
    return {
        "run_id": c.run_id,
        "frame_index": c.frame_index,
        "last_frame_at": _iso(c.last_frame_at),
        "open_at": _iso(c.open_at),
        "open_objects": [
            [o.tracking_id, list(o.box), o.label, o.confidence, o.embedding] for o in c.open_objects
        ],
        "tracks": {
            ds_id: [
                t.track_id,
                t.started_at.isoformat(),
                t.last_seen.isoformat(),
                t.frames,
                t.embedding_sum,
                t.embeddings,
            ]
            for ds_id, t in c.tracks.items()
        },
        "heartbeat_from": _iso(c.heartbeat_from),
        "heartbeat_frames": c.heartbeat_frames,
    }


def _camera_from(doc: dict[str, Any]) -> CameraState:
    objects = [
        DsObject(str(i), (b[0], b[1], b[2], b[3]), str(label), conf, tuple(e) if e else None)
        for i, b, label, conf, e in doc.get("open_objects", [])
    ]
    tracks = {}
    for ds_id, (tid, started, seen, frames, emb, n) in doc.get("tracks", {}).items():
        started_at, last_seen = _at(started), _at(seen)
        assert started_at is not None and last_seen is not None
        tracks[ds_id] = TrackState(tid, started_at, last_seen, int(frames), emb, int(n))
    return CameraState(
        run_id=str(doc["run_id"]),
        frame_index=int(doc.get("frame_index", 0)),
        last_frame_at=_at(doc.get("last_frame_at")),
        open_at=_at(doc.get("open_at")),
        open_objects=objects,
        tracks=tracks,
        heartbeat_from=_at(doc.get("heartbeat_from")),
        heartbeat_frames=int(doc.get("heartbeat_frames", 0)),
    )


class SensorMap:
    """Sensor ids → (site, camera): ``<site>/<camera>``, or a camera id no two sites share."""

    def __init__(self, sites: list[Site]) -> None:
        self.by_id: dict[str, tuple[Site, Camera]] = {}
        bare: dict[str, list[tuple[Site, Camera]]] = {}
        for site in sites:
            for camera in site.cameras:
                self.by_id[f"{site.id}/{camera.id}"] = (site, camera)
                bare.setdefault(camera.id, []).append((site, camera))
        for camera_id, found in bare.items():
            if len(found) == 1:
                self.by_id.setdefault(camera_id, found[0])

    def lookup(self, sensor_id: str) -> tuple[Site, Camera]:
        found = self.by_id.get(sensor_id)
        if found is None:
            raise PayloadError(
                f"sensor id {sensor_id[:80]!r} is not a camera of the bridge's site configs; set "
                "nvmsgconv's [sensorN] id to the camera id (footfall deepstream config writes it), "
                "or '<site>/<camera>' when two sites share the camera id"
            )
        return found


@dataclass
class BridgeCounts:
    frames: int = 0
    objects: int = 0
    late_objects: int = 0
    other_objects: int = 0
    tracklets_started: int = 0
    tracklets_ended: int = 0
    heartbeats: int = 0


class Bridge:
    """DeepStream messages in, contract messages out (see the module's docstring)."""

    def __init__(
        self, sites: list[Site], settings: BridgeSettings, state: BridgeState | None = None
    ) -> None:
        self.sensors = SensorMap(sites)
        self.settings = settings
        self.state = state if state is not None else BridgeState()
        self.counts = BridgeCounts()
        self._labels = {label.lower() for label in settings.labels}
        self._key = bytes.fromhex(self.state.key)

    # ----------------------------------------------------------------------- ids

    def _digest(self, text: str, chars: int) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:chars]

    def _camera_state(self, site: Site, camera: Camera, at: datetime) -> CameraState:
        key = f"{site.id}/{camera.id}"
        state = self.state.cameras.get(key)
        if state is None:
            run_id = self._digest(f"run|{key}|{at.isoformat()}", 32)
            state = self.state.cameras[key] = CameraState(run_id=run_id)
        return state

    # ----------------------------------------------------------------------- input

    def feed(self, frame: DsFrame, now_wall: float) -> list[Message]:
        """One DeepStream message; returns the contract messages it completes."""
        site, camera = self.sensors.lookup(frame.sensor_id)
        cam = self._camera_state(site, camera, frame.captured_at)
        cam.last_wall = now_wall
        people = [
            o
            for o in frame.objects
            if o.label.lower() in self._labels and o.tracking_id not in UNTRACKED_IDS
        ]
        self.counts.other_objects += len(frame.objects) - len(people)
        self.counts.objects += len(people)
        at = frame.captured_at
        out: list[Message] = []
        if cam.open_at is not None and at == cam.open_at:
            seen = {o.tracking_id for o in cam.open_objects}
            cam.open_objects += [o for o in people if o.tracking_id not in seen]
        else:
            if cam.open_at is not None and at > cam.open_at:
                out += self._close_frame(site, camera, cam)
            if (cam.open_at is not None and at < cam.open_at) or (
                cam.last_frame_at is not None and at <= cam.last_frame_at
            ):
                self.counts.late_objects += len(people)
                return out
            cam.open_at, cam.open_objects, cam.open_wall = at, _unique(people), now_wall
        if frame.schema is not Schema.FULL:  # one message per frame: it is complete
            out += self._close_frame(site, camera, cam)
        return out

    def tick(self, now_wall: float) -> list[Message]:
        """Complete frames that waited ``frame_wait_s`` and end the tracks of cameras whose
        messages stopped ``track_timeout_s`` ago (wall clock). Call it only when the input is
        caught up (a poll returned nothing): while a backlog is read, a camera whose records
        come later than others' is not silent."""
        out: list[Message] = []
        for key, cam in self.state.cameras.items():
            site, camera = self.sensors.lookup(key)
            if cam.open_wall is None or cam.last_wall is None:  # restored: count from now
                cam.open_wall = cam.last_wall = now_wall
            if cam.open_at is not None and now_wall - cam.open_wall >= self.settings.frame_wait_s:
                out += self._close_frame(site, camera, cam)
            if cam.tracks and now_wall - cam.last_wall >= self.settings.track_timeout_s:
                out += self._end_tracks(site, camera, cam, None)
        return out

    def flush(self) -> list[Message]:
        """Complete every frame and end every tracklet (the input is over)."""
        out: list[Message] = []
        for key, cam in self.state.cameras.items():
            site, camera = self.sensors.lookup(key)
            if cam.open_at is not None:
                out += self._close_frame(site, camera, cam)
            out += self._end_tracks(site, camera, cam, None)
        return out

    # ----------------------------------------------------------------------- output

    def _close_frame(self, site: Site, camera: Camera, cam: CameraState) -> list[Message]:
        at, objects = cam.open_at, cam.open_objects
        assert at is not None
        cam.open_at, cam.open_objects = None, []
        width, height = camera.resolution
        boxes = self._boxes(objects, camera)
        kept = [(o, b) for o, b in zip(objects, boxes, strict=True) if b is not None]
        kept = kept[:MAX_TRACKS_PER_FRAME]
        feet = np.array([((b[0] + b[2]) / 2, b[3]) for _, b in kept], dtype=np.float64)
        floor = camera.project_to_floor(feet) if len(kept) else np.zeros((0, 2))
        out: list[Message] = []
        tracks = []
        for (obj, box), (fx, fy) in zip(kept, floor, strict=True):
            track = cam.tracks.get(obj.tracking_id)
            if track is None:
                ident = f"track|{site.id}/{camera.id}|{cam.run_id}|{obj.tracking_id}|{at}"
                track = TrackState(self._digest(ident, 16), at, at)
                cam.tracks[obj.tracking_id] = track
                out.append(
                    TrackletStarted(
                        site_id=site.id,
                        camera_id=camera.id,
                        node_id=self.settings.node_id,
                        run_id=cam.run_id,
                        track_id=track.track_id,
                        started_at=at,
                    )
                )
                self.counts.tracklets_started += 1
            track.last_seen = at
            track.frames += 1
            _add_embedding(track, obj.embedding)
            position: dict[str, Any] = {}
            if (
                math.isfinite(fx)
                and math.isfinite(fy)
                and max(abs(fx), abs(fy)) <= MAX_FLOOR_EXTENT_M
            ):
                position = {"floor_id": camera.floor, "floor_xy": (float(fx), float(fy))}
            confidence = 1.0 if obj.confidence is None else min(1.0, max(0.0, obj.confidence))
            tracks.append(
                TrackObservation(
                    track_id=track.track_id, box=box, confidence=confidence, **position
                )
            )
        out.append(
            FrameObservations(
                site_id=site.id,
                camera_id=camera.id,
                node_id=self.settings.node_id,
                run_id=cam.run_id,
                frame_index=cam.frame_index,
                captured_at=at,
                image_width=width,
                image_height=height,
                tracks=tuple(tracks),
            )
        )
        self.counts.frames += 1
        cam.frame_index += 1
        cam.last_frame_at = at
        out += self._end_tracks(site, camera, cam, at)
        out += self._heartbeat(site, camera, cam, at)
        return out

    def _boxes(
        self, objects: list[DsObject], camera: Camera
    ) -> list[tuple[float, float, float, float] | None]:
        width, height = camera.resolution
        sx, sy = 1.0, 1.0
        if self.settings.box_size is not None:
            sx, sy = width / self.settings.box_size[0], height / self.settings.box_size[1]
        out: list[tuple[float, float, float, float] | None] = []
        for o in objects:
            left, top, right, bottom = o.box
            x1, x2 = (min(max(v * sx, 0.0), float(width)) for v in (left, right))
            y1, y2 = (min(max(v * sy, 0.0), float(height)) for v in (top, bottom))
            out.append((x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None)
        return out

    def _end_tracks(
        self, site: Site, camera: Camera, cam: CameraState, at: datetime | None
    ) -> list[Message]:
        """End tracks unseen for the timeout before ``at`` (None: every track)."""
        timeout = timedelta(seconds=self.settings.track_timeout_s)
        out: list[Message] = []
        for ds_id, track in list(cam.tracks.items()):
            if at is not None and at - track.last_seen < timeout:
                continue
            del cam.tracks[ds_id]
            appearance: dict[str, Any] = {}
            if track.embedding_sum is not None and track.embeddings:
                v = np.asarray(track.embedding_sum, dtype=np.float64)
                norm = float(np.linalg.norm(v))
                if norm > 0:
                    appearance = {
                        "embedding": tuple(float(x) for x in v / norm),
                        "embedding_model": self.settings.embedding_model,
                        "quality": min(1.0, track.embeddings / EMBEDDINGS_FOR_FULL_QUALITY),
                    }
            out.append(
                TrackletEnded(
                    site_id=site.id,
                    camera_id=camera.id,
                    node_id=self.settings.node_id,
                    run_id=cam.run_id,
                    track_id=track.track_id,
                    started_at=track.started_at,
                    ended_at=track.last_seen,
                    frame_count=track.frames,
                    **appearance,
                )
            )
            self.counts.tracklets_ended += 1
        return out

    def _heartbeat(
        self, site: Site, camera: Camera, cam: CameraState, at: datetime
    ) -> list[Message]:
        interval = timedelta(seconds=self.settings.heartbeat_interval_s)
        out: list[Message] = []
        if cam.heartbeat_from is None:
            cam.heartbeat_from = at
        elif at >= cam.heartbeat_from + interval:
            sent_at = cam.heartbeat_from + interval
            seconds = self.settings.heartbeat_interval_s
            out.append(
                CameraHeartbeat(
                    site_id=site.id,
                    camera_id=camera.id,
                    node_id=self.settings.node_id,
                    run_id=cam.run_id,
                    sent_at=sent_at,
                    interval_s=seconds,
                    frames=cam.heartbeat_frames,
                    fps=min(MAX_FPS, cam.heartbeat_frames / seconds),
                    target_fps=camera.fps,
                    dropped_frames=0,
                    status=CameraStatus.OK,
                    detail="frames from DeepStream, via footfall cloud deepstream-bridge",
                )
            )
            self.counts.heartbeats += 1
            # After a gap longer than an interval, start the next interval at this frame's.
            behind = (at - sent_at) // interval
            cam.heartbeat_from = sent_at + behind * interval
            cam.heartbeat_frames = 0
        cam.heartbeat_frames += 1
        return out


def _unique(objects: list[DsObject]) -> list[DsObject]:
    seen: set[str] = set()
    out = []
    for o in objects:
        if o.tracking_id not in seen:
            seen.add(o.tracking_id)
            out.append(o)
    return out


def _add_embedding(track: TrackState, embedding: tuple[float, ...] | None) -> None:
    if embedding is None or not EMBEDDING_MIN_DIMS <= len(embedding) <= EMBEDDING_MAX_DIMS:
        return
    v = np.asarray(embedding, dtype=np.float64)
    norm = float(np.linalg.norm(v))
    if not norm > 0 or not math.isfinite(norm):
        return
    if track.embedding_sum is None:
        track.embedding_sum = [0.0] * len(v)
    if len(track.embedding_sum) != len(v):
        return
    track.embedding_sum = [s + float(x) for s, x in zip(track.embedding_sum, v / norm, strict=True)]
    track.embeddings += 1
