"""Step 3: write one batch in one database transaction, idempotent on natural keys.

* Frames are inserted with ``ON CONFLICT DO NOTHING RETURNING`` their keys; only the frames
  that were new have their observations copied (``COPY``) into ``observation``, so a frame
  delivered twice adds nothing, and the observation table needs no unique index.
* The same new observations update the ``track`` table (first/last seen, marked dirty for the
  analytics step) and add to ``heatmap_minute``: both exactly-once for the same reason.
* Tracklets, embeddings and heartbeats are inserted with ``ON CONFLICT DO NOTHING``.

Rows that several processes may update (tracks, heatmap cells) are written in sorted key order,
so concurrent transactions cannot deadlock.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg

from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
)

Conn = psycopg.Connection[tuple[object, ...]]
FrameKey = tuple[str, str, datetime]


@dataclass
class WriteResult:
    frames: int = 0
    observations: int = 0
    duplicates: int = 0
    other: int = 0


_INSERT_FRAMES = """
INSERT INTO frame (site_id, camera_id, captured_at, node_id, run_id, frame_index,
                   image_width, image_height, track_count)
SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[],
                     %s::bigint[], %s::integer[], %s::integer[], %s::integer[])
ON CONFLICT DO NOTHING
RETURNING site_id, camera_id, captured_at
"""

_COPY_OBSERVATIONS = """
COPY observation (site_id, camera_id, captured_at, track_id, run_id, x1, y1, x2, y2,
                  confidence, floor_id, x_m, y_m) FROM STDIN
"""

_UPSERT_TRACKS = """
INSERT INTO track (site_id, camera_id, track_id, run_id, first_at, last_at, dirty)
SELECT s, c, t, r, f, l, true
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],
            %s::timestamptz[]) AS u(s, c, t, r, f, l)
ON CONFLICT (site_id, camera_id, track_id) DO UPDATE
SET first_at = least(track.first_at, excluded.first_at),
    last_at = greatest(track.last_at, excluded.last_at),
    dirty = true
"""

_ADD_HEATMAP = """
INSERT INTO heatmap_minute (site_id, floor_id, minute, cell_x, cell_y, samples)
SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::integer[], %s::integer[],
                     %s::bigint[])
ON CONFLICT (site_id, floor_id, minute, cell_x, cell_y) DO UPDATE
SET samples = heatmap_minute.samples + excluded.samples
"""

_INSERT_TRACKLET_START = """
INSERT INTO tracklet_start (site_id, camera_id, run_id, track_id, started_at, node_id)
VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

_INSERT_TRACKLET_END = """
INSERT INTO tracklet_end (site_id, camera_id, run_id, track_id, started_at, ended_at, node_id,
                          frame_count, quality, embedding_model)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

_INSERT_EMBEDDING = """
INSERT INTO embedding (site_id, camera_id, run_id, track_id, kind, at, embedding_model, quality,
                       vector)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

_INSERT_HEARTBEAT = """
INSERT INTO heartbeat (site_id, camera_id, sent_at, node_id, run_id, interval_s, frames, fps,
                       target_fps, latency_ms, latency_p95_ms, dropped_frames, status, detail)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""


class Writer(Protocol):
    def write(self, messages: Sequence[Message]) -> WriteResult: ...


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class BatchWriter:
    """Writes batches through one connection; ``heatmap_cell_m`` is the base heatmap cell."""

    def __init__(self, conn: Conn, heatmap_cell_m: float) -> None:
        self.conn = conn
        self.cell_m = heatmap_cell_m

    def write(self, messages: Sequence[Message]) -> WriteResult:
        """Write all messages in one transaction (committed on return)."""
        frames: dict[FrameKey, FrameObservations] = {}
        other: list[Message] = []
        for msg in messages:
            if isinstance(msg, FrameObservations):
                frames.setdefault((msg.site_id, msg.camera_id, msg.captured_at), msg)
            else:
                other.append(msg)
        result = WriteResult(duplicates=len(messages) - len(frames) - len(other))
        with self.conn.transaction():
            new = self._insert_frames(list(frames.values()))
            result.frames = len(new)
            result.duplicates += len(frames) - len(new)
            result.observations = self._write_observations([frames[k] for k in new])
            result.other = self._write_other(other)
        return result

    def _insert_frames(self, frames: list[FrameObservations]) -> list[FrameKey]:
        if not frames:
            return []
        cols: list[list[object]] = [[] for _ in range(9)]
        for f in frames:
            row = (
                f.site_id,
                f.camera_id,
                f.captured_at,
                f.node_id,
                f.run_id,
                f.frame_index,
                f.image_width,
                f.image_height,
                len(f.tracks),
            )
            for col, value in zip(cols, row, strict=True):
                col.append(value)
        cur = self.conn.execute(_INSERT_FRAMES, cols)
        return [(str(s), str(c), at) for s, c, at in cur.fetchall()]  # type: ignore[misc]

    def _write_observations(self, frames: list[FrameObservations]) -> int:
        tracks: dict[tuple[str, str, str], list[object]] = {}
        cells: dict[tuple[str, str, datetime, int, int], int] = defaultdict(int)
        count = 0
        cell = self.cell_m
        with self.conn.cursor().copy(_COPY_OBSERVATIONS) as copy:
            for f in frames:
                at = f.captured_at
                minute = _minute(at)
                for obs in f.tracks:
                    x1, y1, x2, y2 = obs.box
                    xy = obs.floor_xy
                    x_m, y_m = xy if xy is not None else (None, None)
                    copy.write_row(
                        (
                            f.site_id,
                            f.camera_id,
                            at,
                            obs.track_id,
                            f.run_id,
                            x1,
                            y1,
                            x2,
                            y2,
                            obs.confidence,
                            obs.floor_id,
                            x_m,
                            y_m,
                        )
                    )
                    count += 1
                    key = (f.site_id, f.camera_id, obs.track_id)
                    seen = tracks.get(key)
                    if seen is None:
                        tracks[key] = [f.run_id, at, at]
                    else:
                        if at < seen[1]:  # type: ignore[operator]
                            seen[1] = at
                        if at > seen[2]:  # type: ignore[operator]
                            seen[2] = at
                    if xy is not None and obs.floor_id is not None:
                        cx, cy = math.floor(xy[0] / cell), math.floor(xy[1] / cell)
                        cells[(f.site_id, obs.floor_id, minute, cx, cy)] += 1
        self._upsert_tracks(tracks)
        self._add_heatmap(cells)
        return count

    def _upsert_tracks(self, tracks: dict[tuple[str, str, str], list[object]]) -> None:
        if not tracks:
            return
        cols: list[list[object]] = [[] for _ in range(6)]
        for key in sorted(tracks):
            run_id, first, last = tracks[key]
            for col, value in zip(cols, (*key, run_id, first, last), strict=True):
                col.append(value)
        self.conn.execute(_UPSERT_TRACKS, cols)

    def _add_heatmap(self, cells: dict[tuple[str, str, datetime, int, int], int]) -> None:
        if not cells:
            return
        cols: list[list[object]] = [[] for _ in range(6)]
        for key in sorted(cells):
            for col, value in zip(cols, (*key, cells[key]), strict=True):
                col.append(value)
        self.conn.execute(_ADD_HEATMAP, cols)

    def _write_other(self, messages: list[Message]) -> int:
        starts: list[tuple[object, ...]] = []
        ends: list[tuple[object, ...]] = []
        embeddings: list[tuple[object, ...]] = []
        beats: list[tuple[object, ...]] = []
        for m in messages:
            if isinstance(m, TrackletStarted):
                starts.append(
                    (m.site_id, m.camera_id, m.run_id, m.track_id, m.started_at, m.node_id)
                )
                if m.embedding is not None:
                    embeddings.append(
                        (
                            m.site_id,
                            m.camera_id,
                            m.run_id,
                            m.track_id,
                            m.kind,
                            m.started_at,
                            m.embedding_model,
                            m.quality,
                            list(m.embedding),
                        )
                    )
            elif isinstance(m, TrackletEnded):
                ends.append(
                    (
                        m.site_id,
                        m.camera_id,
                        m.run_id,
                        m.track_id,
                        m.started_at,
                        m.ended_at,
                        m.node_id,
                        m.frame_count,
                        m.quality,
                        m.embedding_model,
                    )
                )
                embeddings.append(
                    (
                        m.site_id,
                        m.camera_id,
                        m.run_id,
                        m.track_id,
                        m.kind,
                        m.ended_at,
                        m.embedding_model,
                        m.quality,
                        list(m.embedding),
                    )
                )
            elif isinstance(m, CameraHeartbeat):
                beats.append(
                    (
                        m.site_id,
                        m.camera_id,
                        m.sent_at,
                        m.node_id,
                        m.run_id,
                        m.interval_s,
                        m.frames,
                        m.fps,
                        m.target_fps,
                        m.latency_ms,
                        m.latency_p95_ms,
                        m.dropped_frames,
                        str(m.status),
                        m.detail,
                    )
                )
        with self.conn.cursor() as cur:
            for sql, rows in (
                (_INSERT_TRACKLET_START, starts),
                (_INSERT_TRACKLET_END, ends),
                (_INSERT_EMBEDDING, embeddings),
                (_INSERT_HEARTBEAT, beats),
            ):
                if rows:
                    cur.executemany(sql, rows)
        return len(messages)
