"""Tracklets as the stitcher sees them: columns of numpy arrays, one row per local track.

A row has the tracklet's natural key, its camera (index into the site's cameras), start and end
(seconds since the Unix epoch, the camera's clock), its Re-ID embedding and quality (a zero
vector and quality 0 for a tracklet without appearance: ``has_embedding`` is False), and a
short trajectory (floor positions about once a second) for comparing positions where two
cameras see the same floor. Built from contract messages (:func:`from_messages`, for the
simulator and the benchmark) or from the database (:mod:`cloud.stitch.store`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from footfall.contract import FrameObservations, Message, TrackletEnded
from footfall.site import Site

TrackletKey = tuple[str, str, str, datetime]
"""(camera_id, run_id, track_id, started_at): the natural key of a tracklet within a site."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def seconds(at: datetime) -> float:
    return (at - EPOCH).total_seconds()


@dataclass
class Tracklets:
    """Tracklets of one site as columns (see the module docstring); rows in any order."""

    keys: list[TrackletKey]
    camera: np.ndarray
    """(n,) camera index into the site's cameras."""
    start: np.ndarray
    """(n,) seconds since the epoch."""
    end: np.ndarray
    embedding: np.ndarray
    """(n, d) L2-normalised."""
    quality: np.ndarray
    frames: np.ndarray
    paths: list[np.ndarray] = field(default_factory=list)
    """Per row: (m, 3) array of (seconds, x, y), m ≥ 0, time-ordered."""
    models: list[str | None] = field(default_factory=list)
    """Per row: the name of the embedder that made the embedding (None: none, or not known)."""

    @property
    def has_embedding(self) -> np.ndarray:
        """(n,) bool: the row carries an appearance embedding (a camera with pixels and Re-ID)."""
        return np.asarray(np.any(self.embedding != 0.0, axis=1))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def first_xy(self) -> np.ndarray:
        return np.array([p[0, 1:] if len(p) else (np.nan, np.nan) for p in self.paths])

    @property
    def last_xy(self) -> np.ndarray:
        return np.array([p[-1, 1:] if len(p) else (np.nan, np.nan) for p in self.paths])

    @classmethod
    def build(
        cls,
        site: Site,
        rows: Sequence[
            tuple[str, str, str, datetime, datetime, int, float | None, Sequence[float] | None]
        ],
        paths: dict[tuple[str, str], np.ndarray],
        models: Sequence[str | None] | None = None,
    ) -> Tracklets:
        """From (camera_id, run_id, track_id, started_at, ended_at, frames, quality, embedding)
        rows and trajectories keyed by (camera_id, track_id); unknown cameras are skipped.
        Quality and embedding are None for a tracklet without appearance. ``models``: per row,
        the embedder's name (``embedding_model``)."""
        cams = {c.id: i for i, c in enumerate(site.cameras)}
        names = list(models) if models is not None else [None] * len(rows)
        names = [m for r, m in zip(rows, names, strict=True) if r[0] in cams]
        rows = [r for r in rows if r[0] in cams]
        dims = next((len(r[7]) for r in rows if r[7] is not None), 1)
        emb = np.array(
            [r[7] if r[7] is not None else np.zeros(dims) for r in rows], dtype=np.float64
        ).reshape(len(rows), dims)
        norm = np.linalg.norm(emb, axis=1, keepdims=True)
        emb = emb / np.where(norm > 0, norm, 1.0)
        empty = np.zeros((0, 3))
        return cls(
            [(r[0], r[1], r[2], r[3]) for r in rows],
            np.array([cams[r[0]] for r in rows], dtype=np.int64),
            np.array([seconds(r[3]) for r in rows], dtype=np.float64),
            np.array([seconds(r[4]) for r in rows], dtype=np.float64),
            emb,
            np.array([r[6] or 0.0 for r in rows], dtype=np.float64),
            np.array([r[5] for r in rows], dtype=np.int64),
            [paths.get((r[0], r[2]), empty) for r in rows],
            names,
        )


def downsample(points: np.ndarray, period_s: float = 1.0) -> np.ndarray:
    """Mean position per ``period_s`` bucket of an (m, 3) (seconds, x, y) array."""
    if len(points) == 0:
        return points
    bucket = np.floor(points[:, 0] / period_s)
    cuts = np.flatnonzero(np.diff(bucket)) + 1
    starts = np.concatenate([[0], cuts])
    counts = np.diff(np.concatenate([starts, [len(points)]]))
    sums = np.add.reduceat(points, starts, axis=0)
    return sums / counts[:, None]


def from_messages(site: Site, messages: Iterable[Message]) -> Tracklets:
    """The tracklets of a message stream (as ingest would store them), duplicates ignored."""
    ends: dict[tuple[str, str, str], TrackletEnded] = {}
    points: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for m in messages:
        if m.site_id != site.id:
            continue
        if isinstance(m, TrackletEnded):
            ends.setdefault((m.camera_id, m.run_id, m.track_id), m)
        elif isinstance(m, FrameObservations):
            t = seconds(m.captured_at)
            for obs in m.tracks:
                if obs.floor_xy is not None:
                    points.setdefault((m.camera_id, obs.track_id), []).append(
                        (t, obs.floor_xy[0], obs.floor_xy[1])
                    )
    paths = {}
    for key, pts in points.items():
        arr = np.array(sorted(set(pts)), dtype=np.float64)
        paths[key] = downsample(arr)
    rows = [
        (
            e.camera_id,
            e.run_id,
            e.track_id,
            e.started_at,
            e.ended_at,
            e.frame_count,
            e.quality,
            e.embedding,
        )
        for e in ends.values()
    ]
    models = [e.embedding_model for e in ends.values()]
    return Tracklets.build(site, rows, paths, models)
