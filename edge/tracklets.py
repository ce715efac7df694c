"""Tracklets: the life of each local track on one camera, as contract start/end messages.

A tracklet starts the first frame its track is confirmed (``TrackletStarted``, with that frame's
embedding when it is good enough) and ends when the track has not been seen for
``end_after_s`` seconds, or when the camera stops (``TrackletEnded``). The end carries the
quality-weighted mean of the track's embeddings, L2-normalised, and the model's name. A book
without an embedding model (a camera without pixels or Re-ID) ends every tracklet without one.

Quality of one observation, in [0, 1]: detection confidence x size (boxes under 128 px tall
count less) x truncation (boxes touching the image border count half) x isolation
(1 - the largest IoU with another track in the frame: occluded crops mix two people).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from edge.detection import box_iou
from footfall.contract import TrackletEnded, TrackletStarted

FULL_QUALITY_HEIGHT_PX = 128.0


def observation_quality(
    tracks_xyxy: np.ndarray, confidence: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(N,) quality in [0, 1] of each box as a source of appearance (see the module docstring)."""
    xyxy = np.asarray(tracks_xyxy, np.float64).reshape(-1, 4)
    if len(xyxy) == 0:
        return np.zeros(0)
    size = np.clip((xyxy[:, 3] - xyxy[:, 1]) / FULL_QUALITY_HEIGHT_PX, 0.0, 1.0)
    border = (
        (xyxy[:, 0] <= 1)
        | (xyxy[:, 1] <= 1)
        | (xyxy[:, 2] >= width - 1)
        | (xyxy[:, 3] >= height - 1)
    )
    truncation = np.where(border, 0.5, 1.0)
    iou = box_iou(xyxy, xyxy)
    np.fill_diagonal(iou, 0.0)
    isolation = 1.0 - iou.max(axis=1)
    quality = np.clip(confidence, 0.0, 1.0) * size * truncation * isolation
    return np.asarray(quality.clip(0.0, 1.0), np.float64)


@dataclass
class _Open:
    started_at: datetime
    last_seen: datetime
    frames: int = 0
    embedding_sum: np.ndarray | None = None
    quality_sum: float = 0.0
    used: int = 0
    fallback_sum: np.ndarray | None = None


@dataclass
class TrackletBook:
    """Open tracklets of one camera; ``observe`` each frame, ``close`` at the end."""

    site_id: str
    camera_id: str
    node_id: str
    run_id: str
    embedding_model: str | None
    end_after_s: float = 4.0
    min_quality: float = 0.2
    _open: dict[str, _Open] = field(default_factory=dict)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def _envelope(self, track_id: str) -> dict[str, str]:
        return {
            "site_id": self.site_id,
            "camera_id": self.camera_id,
            "node_id": self.node_id,
            "run_id": self.run_id,
            "track_id": track_id,
        }

    def observe(
        self,
        track_ids: np.ndarray,
        embeddings: np.ndarray | None,
        quality: np.ndarray,
        captured_at: datetime,
    ) -> list[TrackletStarted | TrackletEnded]:
        """Record one frame's tracks; returns the starts of new and the ends of stale tracklets."""
        messages: list[TrackletStarted | TrackletEnded] = []
        for i, tid in enumerate(track_ids):
            tid = str(tid)
            vector = None
            if embeddings is not None and np.linalg.norm(embeddings[i]) > 0.5:
                vector = np.asarray(embeddings[i], np.float64)
            state = self._open.get(tid)
            if state is None:
                state = self._open[tid] = _Open(started_at=captured_at, last_seen=captured_at)
                early = vector is not None and quality[i] >= self.min_quality
                messages.append(
                    TrackletStarted(
                        **self._envelope(tid),
                        started_at=captured_at,
                        embedding=tuple(float(v) for v in _unit(vector)) if early else None,
                        embedding_model=self.embedding_model if early else None,
                        quality=float(quality[i]) if early else None,
                    )
                )
            state.frames += 1
            state.last_seen = captured_at
            if vector is None:
                continue
            q = float(quality[i])
            state.fallback_sum = _add(state.fallback_sum, vector, max(q, 1e-3))
            if q >= self.min_quality:
                state.embedding_sum = _add(state.embedding_sum, vector, q)
                state.quality_sum += q
                state.used += 1
        stale = [
            tid
            for tid, s in self._open.items()
            if (captured_at - s.last_seen).total_seconds() > self.end_after_s
        ]
        messages.extend(m for tid in stale if (m := self._end(tid)) is not None)
        return messages

    def close(self) -> list[TrackletEnded]:
        """End every open tracklet (the camera stopped)."""
        return [m for tid in list(self._open) if (m := self._end(tid)) is not None]

    def _end(self, track_id: str) -> TrackletEnded | None:
        state = self._open.pop(track_id)
        if self.embedding_model is None:  # no appearance on this camera
            return TrackletEnded(
                **self._envelope(track_id),
                started_at=state.started_at,
                ended_at=state.last_seen,
                frame_count=state.frames,
            )
        if state.embedding_sum is not None:
            vector = state.embedding_sum
            quality = (state.quality_sum / state.used) * min(1.0, state.used / 5.0)
        elif state.fallback_sum is not None:
            vector, quality = state.fallback_sum, 0.0
        else:
            return None  # never embedded: nothing to stitch with
        return TrackletEnded(
            **self._envelope(track_id),
            started_at=state.started_at,
            ended_at=state.last_seen,
            frame_count=state.frames,
            embedding=tuple(float(v) for v in _unit(vector)),
            embedding_model=self.embedding_model,
            quality=float(np.clip(quality, 0.0, 1.0)),
        )


def _add(total: np.ndarray | None, vector: np.ndarray, weight: float) -> np.ndarray:
    return weight * vector if total is None else total + weight * vector


def _unit(vector: np.ndarray | None) -> np.ndarray:
    assert vector is not None
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
