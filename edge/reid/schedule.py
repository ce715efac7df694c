"""Re-ID only when it pays: which detections of a frame get a freshly computed embedding.

BoT-SORT uses appearance only for high-score detections (its second, low-score association is
by box overlap alone), and a person walking alone, whose box overlaps exactly one track's
predicted box, is matched by motion whatever the embedding says. Computing a CNN embedding for
every box of every frame is therefore mostly wasted. Per camera, :class:`ReidSchedule` decides,
before the (batched, cross-camera) Re-ID pass, which boxes to embed:

* boxes below the tracker's high-score threshold: never (``track_high_thresh``);
* a box that overlaps exactly one recent track's predicted box (IoU >= ``reuse_iou``), overlaps
  no other track or box, and whose track was embedded less than ``refresh_s`` seconds ago:
  it reuses that track's embedding (not a fresh one);
* every other high-score box (new or unmatched people, crowded or crossing people, tracks due for
  a refresh): embedded, if its crop is at least ``min_crop_px`` tall or no embedding of its
  track exists yet.

``after_tracking`` records what the tracker made of the frame (boxes, ids, embeddings) for the
next one. With ``refresh_s = 0`` every high-score box is embedded every frame. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge.detection import Detections, box_iou


@dataclass
class _Seen:
    box: np.ndarray
    velocity: np.ndarray
    frame: int
    embedding: np.ndarray | None
    embedded_frame: int


@dataclass(frozen=True)
class ReidPlan:
    """For one frame: ``embed`` (bool per box) boxes to embed now; ``reuse`` (N, D) or None:
    the embedding each other box borrows from its track (zero rows where it has none)."""

    embed: np.ndarray
    reuse: np.ndarray | None


@dataclass
class ReidSchedule:
    """One camera's memory of its tracks' boxes and embeddings (see the module docstring).

    ``fps``: the camera's frame rate (turns ``refresh_s`` and ``keep_s`` into frames).
    """

    fps: float
    high_score: float = 0.5
    refresh_s: float = 1.0
    reuse_iou: float = 0.5
    min_crop_px: int = 40
    keep_s: float = 1.0
    _frame: int = 0
    _tracks: dict[str, _Seen] = field(default_factory=dict)
    computed: int = 0
    reused: int = 0
    skipped: int = 0

    def plan(self, detections: Detections) -> ReidPlan:
        """Which of this frame's boxes to embed, and what the others borrow."""
        self._frame += 1
        n = len(detections)
        high = detections.confidence >= self.high_score
        if self.refresh_s <= 0 or not self._tracks or n == 0:
            embed = high.copy()
            self.computed += int(embed.sum())
            self.skipped += n - int(embed.sum())
            return ReidPlan(embed=embed, reuse=None)
        ids = list(self._tracks)
        seen = [self._tracks[t] for t in ids]
        predicted = np.stack([s.box + s.velocity * (self._frame - s.frame) for s in seen]).astype(
            np.float64
        )
        overlap = box_iou(detections.xyxy, predicted)  # (n, tracks)
        among = box_iou(detections.xyxy, detections.xyxy)
        np.fill_diagonal(among, 0.0)
        refresh_frames = max(1, round(self.refresh_s * self.fps))
        dim = next((s.embedding.shape[0] for s in seen if s.embedding is not None), 0)
        reuse = np.zeros((n, dim), np.float32) if dim else None
        embed = np.zeros(n, bool)
        heights = detections.xyxy[:, 3] - detections.xyxy[:, 1]
        for i in range(n):
            if not high[i]:
                continue
            order = np.argsort(-overlap[i])
            best = int(order[0])
            second = float(overlap[i, order[1]]) if len(order) > 1 else 0.0
            track = seen[best]
            clear = (
                overlap[i, best] >= self.reuse_iou
                and second < 0.1
                and float(among[i].max(initial=0.0)) < 0.1
                and int((overlap[:, best] >= 0.1).sum()) == 1
            )
            has = track.embedding is not None and reuse is not None
            due = self._frame - track.embedded_frame >= refresh_frames
            small = heights[i] < self.min_crop_px
            if clear and has and (not due or small):
                assert reuse is not None and track.embedding is not None
                reuse[i] = track.embedding
            else:
                embed[i] = True
        self.computed += int(embed.sum())
        self.reused += int((high & ~embed).sum())
        self.skipped += int((~high).sum())
        return ReidPlan(embed=embed, reuse=reuse)

    def after_tracking(self, tracks: Detections) -> None:
        """Remember the tracker's output of the frame just planned (boxes, ids, embeddings)."""
        if tracks.tracker_id is None:
            return
        for i, tid in enumerate(tracks.tracker_id):
            tid = str(tid)
            box = tracks.xyxy[i].astype(np.float64)
            old = self._tracks.get(tid)
            vector = None if tracks.embedding is None else tracks.embedding[i]
            fresh = bool(tracks.fresh[i]) if tracks.fresh is not None else vector is not None
            if vector is not None and float(np.linalg.norm(vector)) < 0.5:
                vector, fresh = None, False
            if old is None:
                self._tracks[tid] = _Seen(
                    box, np.zeros(4), self._frame, vector, self._frame if fresh else -(10**9)
                )
                continue
            gap = max(1, self._frame - old.frame)
            old.velocity = 0.5 * old.velocity + 0.5 * (box - old.box) / gap
            old.box, old.frame = box, self._frame
            if vector is not None and fresh:
                old.embedding, old.embedded_frame = vector.astype(np.float32), self._frame
            elif vector is not None and old.embedding is None:
                old.embedding = vector.astype(np.float32)
        keep = max(1, round(self.keep_s * self.fps))
        for tid in [t for t, s in self._tracks.items() if self._frame - s.frame > keep]:
            del self._tracks[tid]
