"""Step 3: write one batch in one database transaction, idempotent on natural keys.

* Frames are staged (``COPY`` into a temporary table) and inserted with ``ON CONFLICT DO
  NOTHING RETURNING`` their keys; only the frames that were new have their observations copied
  (``COPY``) into ``observation``, so a frame delivered twice adds nothing, and the observation
  table needs no unique index.
* The same new observations update the ``track`` table (first/last seen, marked dirty for the
  analytics step with the earliest new observation time, so that it can derive incrementally)
  and add to ``heatmap_minute``: both exactly-once for the same reason.
* Tracklets, embeddings and heartbeats are inserted with ``ON CONFLICT DO NOTHING``.
* Held records (valid, of a site or camera without a config yet) are stored as they came in
  ``held_record``, in the batch's transaction (so their offsets are committed only once they
  are durable); a batch that takes them in deletes them in its own transaction, so a held
  record is ingested exactly once (and a repeat would be absorbed by the keys above anyway).

Rows that several processes may update (tracks, heatmap cells) are written in sorted key order,
so concurrent transactions cannot deadlock.

Speed: every row-per-observation step is one formatted line of ``COPY`` text, built here rather
than by psycopg's per-value dumpers (the profile's largest client-side cost). The text needs no
escaping: the contract restricts every text field written this way to ``[a-z0-9_-]`` (slugs,
lowercase hex ids) and every number to a finite float, so no tab, newline or backslash can occur.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import psycopg

from cloud.ingest.decode import Held
from cloud.transport.types import Record
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


# Staging tables: private to the connection, emptied at every commit.
_CREATE_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS frame_in (
    site_id text, camera_id text, captured_at timestamptz, node_id text, run_id text,
    frame_index bigint, image_width integer, image_height integer, track_count integer
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS track_in (
    site_id text, camera_id text, track_id text, run_id text, first_at timestamptz,
    last_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS heatmap_in (
    site_id text, floor_id text, minute timestamptz, cell_x integer, cell_y integer,
    samples bigint
) ON COMMIT DELETE ROWS;
"""

_COPY_FRAMES = "COPY frame_in FROM STDIN"

_INSERT_FRAMES = """
INSERT INTO frame (site_id, camera_id, captured_at, node_id, run_id, frame_index,
                   image_width, image_height, track_count)
SELECT * FROM frame_in
ON CONFLICT DO NOTHING
RETURNING site_id, camera_id, captured_at
"""

_COPY_OBSERVATIONS = """
COPY observation (site_id, camera_id, captured_at, run_id, track_id, x1, y1, x2, y2,
                  confidence, floor_id, x_m, y_m) FROM STDIN
"""

_COPY_TRACKS = "COPY track_in FROM STDIN"

_UPSERT_TRACKS = """
INSERT INTO track (site_id, camera_id, track_id, run_id, first_at, last_at, dirty, dirty_from)
SELECT site_id, camera_id, track_id, run_id, first_at, last_at, true, first_at
FROM track_in ORDER BY site_id, camera_id, track_id
ON CONFLICT (site_id, camera_id, track_id) DO UPDATE
SET first_at = least(track.first_at, excluded.first_at),
    last_at = greatest(track.last_at, excluded.last_at),
    dirty_from = CASE WHEN track.dirty THEN least(track.dirty_from, excluded.first_at)
                      ELSE excluded.first_at END,
    dirty = true
"""

_COPY_HEATMAP = "COPY heatmap_in FROM STDIN"

_ADD_HEATMAP = """
INSERT INTO heatmap_minute (site_id, floor_id, minute, cell_x, cell_y, samples)
SELECT * FROM heatmap_in ORDER BY site_id, floor_id, minute, cell_x, cell_y
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


_INSERT_HELD = """
INSERT INTO held_record (topic, partition, "offset", digest, site_id, camera_id, at, key, value)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""

_DELETE_HELD = """
DELETE FROM held_record WHERE topic = %s AND partition = %s AND "offset" = %s AND digest = %s
"""

_HELD_COUNTS = "SELECT site_id, camera_id, count(*) FROM held_record GROUP BY 1, 2 ORDER BY 1, 2"

_SELECT_HELD = """
SELECT topic, partition, "offset", key, value, site_id, camera_id, at FROM held_record
WHERE site_id = %s AND camera_id = %s ORDER BY at, topic, partition, "offset" LIMIT %s
"""

HeldCounts = dict[tuple[str, str], int]
"""(site id, camera id) -> records held."""


def _held_row(h: Held) -> tuple[object, ...]:
    r = h.record
    value = r.value or b""
    digest = hashlib.sha256(value).digest()
    return (r.topic, r.partition, r.offset, digest, h.site_id, h.camera_id, h.at, r.key, value)


class Writer(Protocol):
    def write(
        self,
        messages: Sequence[Message],
        held: Sequence[Held] = (),
        released: Sequence[Held] = (),
    ) -> WriteResult: ...

    def held_counts(self) -> HeldCounts:
        """How many records are held, by site and camera."""
        ...

    def held(self, pairs: Iterable[tuple[str, str]], limit: int | None = None) -> list[Held]:
        """The held records of these (site id, camera id) pairs, oldest first (at most
        ``limit`` of each pair)."""
        ...


class BatchWriter:
    """Writes batches through one connection; ``heatmap_cell_m`` is each site's base heatmap cell
    (by site id: its config's ``counting.heatmap_cell_m``), or one cell for every site."""

    def __init__(self, conn: Conn, heatmap_cell_m: Mapping[str, float] | float) -> None:
        self.conn = conn
        if isinstance(heatmap_cell_m, Mapping):
            self.cell_m: dict[str, float] = dict(heatmap_cell_m)
            self.any_cell_m: float | None = None
        else:
            self.cell_m, self.any_cell_m = {}, float(heatmap_cell_m)
        self._staging = False

    def write(
        self,
        messages: Sequence[Message],
        held: Sequence[Held] = (),
        released: Sequence[Held] = (),
    ) -> WriteResult:
        """Write all messages, store ``held`` and delete ``released`` in one transaction
        (committed on return)."""
        frames: dict[FrameKey, FrameObservations] = {}
        other: list[Message] = []
        for msg in messages:
            if isinstance(msg, FrameObservations):
                frames.setdefault((msg.site_id, msg.camera_id, msg.captured_at), msg)
            else:
                other.append(msg)
        result = WriteResult(duplicates=len(messages) - len(frames) - len(other))
        try:
            with self.conn.transaction():
                if not self._staging:  # temporary tables live as long as the connection
                    self.conn.execute(_CREATE_STAGING)
                    self._staging = True
                new = self._insert_frames(list(frames.values()))
                result.frames = len(new)
                result.duplicates += len(frames) - len(new)
                result.observations = self._write_observations([frames[k] for k in new])
                result.other = self._write_other(other)
                if held or released:
                    with self.conn.cursor() as cur:
                        if held:
                            cur.executemany(_INSERT_HELD, [_held_row(h) for h in held])
                        if released:
                            cur.executemany(_DELETE_HELD, [_held_row(h)[:4] for h in released])
        except BaseException:
            self._staging = False  # a rolled-back first batch takes the tables with it
            raise
        return result

    def held_counts(self) -> HeldCounts:
        with self.conn.transaction():
            rows = self.conn.execute(_HELD_COUNTS).fetchall()
        return {(str(s), str(c)): int(str(n)) for s, c, n in rows}

    def held(self, pairs: Iterable[tuple[str, str]], limit: int | None = None) -> list[Held]:
        out: list[Held] = []
        with self.conn.transaction(), self.conn.cursor() as cur:
            for site_id, camera_id in pairs:
                for topic, part, off, key, value, s, c, at in cur.execute(
                    _SELECT_HELD, (site_id, camera_id, limit)
                ).fetchall():
                    record = Record(str(topic), int(part), int(off), key, value)  # type: ignore[call-overload,arg-type]
                    out.append(Held(record, str(s), str(c), at))  # type: ignore[arg-type]
        return out

    def _copy(self, sql: str, lines: list[str]) -> None:
        with self.conn.cursor().copy(sql) as copy:
            copy.write("".join(lines).encode())

    def _insert_frames(self, frames: list[FrameObservations]) -> list[FrameKey]:
        if not frames:
            return []
        self._copy(
            _COPY_FRAMES,
            [
                f"{f.site_id}\t{f.camera_id}\t{f.captured_at.isoformat()}\t{f.node_id}\t"
                f"{f.run_id}\t{f.frame_index}\t{f.image_width}\t{f.image_height}\t"
                f"{len(f.tracks)}\n"
                for f in frames
            ],
        )
        cur = self.conn.execute(_INSERT_FRAMES)
        return [(str(s), str(c), at) for s, c, at in cur.fetchall()]  # type: ignore[misc]

    def _write_observations(self, frames: list[FrameObservations]) -> int:
        # (site, camera, track) -> [run_id, first, last]; (site, floor, minute, cx, cy) -> n
        tracks: dict[tuple[str, str, str], list[object]] = {}
        cells: dict[tuple[str, str, datetime, int, int], int] = {}
        lines: list[str] = []
        add = lines.append
        cells_m, any_cell_m = self.cell_m, self.any_cell_m
        floor = math.floor
        for f in frames:
            if not f.tracks:
                continue
            at = f.captured_at
            site, camera, run = f.site_id, f.camera_id, f.run_id
            cell = cells_m.get(site, any_cell_m)
            if cell is None:
                raise KeyError(f"no heatmap cell for site {site!r}")
            prefix = f"{site}\t{camera}\t{at.isoformat()}\t{run}\t"
            minute = at.replace(second=0, microsecond=0)
            for obs in f.tracks:
                x1, y1, x2, y2 = obs.box
                xy = obs.floor_xy
                tid = obs.track_id
                if xy is None or obs.floor_id is None:
                    add(
                        f"{prefix}{tid}\t{x1!r}\t{y1!r}\t{x2!r}\t{y2!r}\t{obs.confidence!r}"
                        "\t\\N\t\\N\t\\N\n"
                    )
                else:
                    x, y = xy
                    add(
                        f"{prefix}{tid}\t{x1!r}\t{y1!r}\t{x2!r}\t{y2!r}\t{obs.confidence!r}"
                        f"\t{obs.floor_id}\t{x!r}\t{y!r}\n"
                    )
                    ckey = (site, obs.floor_id, minute, floor(x / cell), floor(y / cell))
                    cells[ckey] = cells.get(ckey, 0) + 1
                key = (site, camera, tid)
                seen = tracks.get(key)
                if seen is None:
                    tracks[key] = [run, at, at]
                elif at < seen[1]:  # type: ignore[operator]
                    seen[1] = at
                elif at > seen[2]:  # type: ignore[operator]
                    seen[2] = at
        if not lines:
            return 0
        self._copy(_COPY_OBSERVATIONS, lines)
        self._upsert_tracks(tracks)
        self._add_heatmap(cells)
        return len(lines)

    def _upsert_tracks(self, tracks: dict[tuple[str, str, str], list[object]]) -> None:
        if not tracks:
            return
        self._copy(
            _COPY_TRACKS,
            [
                f"{s}\t{c}\t{t}\t{run}\t{first.isoformat()}\t{last.isoformat()}\n"  # type: ignore[attr-defined]
                for (s, c, t), (run, first, last) in tracks.items()
            ],
        )
        self.conn.execute(_UPSERT_TRACKS)

    def _add_heatmap(self, cells: dict[tuple[str, str, datetime, int, int], int]) -> None:
        if not cells:
            return
        self._copy(
            _COPY_HEATMAP,
            [
                f"{s}\t{fl}\t{m.isoformat()}\t{cx}\t{cy}\t{n}\n"
                for (s, fl, m, cx, cy), n in cells.items()
            ],
        )
        self.conn.execute(_ADD_HEATMAP)

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
                if m.embedding is not None:  # none from a camera without appearance
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
