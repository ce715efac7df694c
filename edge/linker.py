"""The head linker: a tracker for cameras at a few frames per second (``tracker.type: linker``).

At 2 frames/s a small, distant person moves further between frames than their own box is wide,
so box overlap (BoT-SORT's first cue) no longer links them: on the Mall webcam's crowd, BoT-SORT
kept 15 tracks a frame for 25 boxes (``bench/edge/mall_count_tracks.py``). The linker links by
where the head is instead: each box joins the track whose last head point is nearest, within
``link_gate`` box heights (the smaller box's) and with box heights within 1.5x of each other,
one to one (Hungarian). A box no track takes starts a tentative track; a track is published
from its first box scoring ``new_track_thresh`` on, and its later boxes are published from
``track_low_thresh``, as ByteTrack keeps a confirmed person through low scores. A track not
seen for ``track_buffer_s`` is dropped. Track ids are fresh random ones
(:func:`footfall.contract.new_track_id`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge.config import TrackerConfig
from edge.detection import Detections, head_points
from footfall.contract import new_track_id

log = logging.getLogger(__name__)

LOW_FPS = 5.0
"""Above this frame rate box overlap holds, and BoT-SORT (with appearance) tracks better: at 7-25
frames/s the linker's IDF1 was 0.40 / 0.46 / 0.55 on PETS09 / TUD-Campus / TUD-Stadtmitte
against BoT-SORT's 0.81 / 0.78 / 0.87 (first 300 frames, ``footfall eval``)."""
HEAD_FRACTION = 0.1
"""The head point: box top-centre, this fraction of the box height down."""
MAX_HEIGHT_RATIO = 1.5
"""A box and a track whose heights differ by more than this factor are not one person."""


@dataclass
class _Track:
    track_id: str
    box: np.ndarray
    last_frame: int
    confirmed: bool


class HeadLinker:
    """Links boxes frame to frame by head position; see the module docstring."""

    def __init__(self, config: TrackerConfig, fps: float) -> None:
        if fps > LOW_FPS:
            log.warning(
                "tracker linker at %.3g frames/s: it is meant for cameras at %g frames/s or "
                "less; at this rate type: botsort tracks better (edge/linker.py)",
                fps,
                LOW_FPS,
            )
        self.low = config.track_low_thresh
        self.confirm = config.new_track_thresh
        self.gate = config.link_gate
        self.max_age = max(1, round(config.track_buffer_s * fps))
        self._tracks: list[_Track] = []
        self._frame = 0

    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        """Confirmed tracks seen in this frame, with ``tracker_id`` (and the matched boxes'
        embeddings, when they have them)."""
        self._frame += 1
        dets = detections.clipped(image.shape[1], image.shape[0])
        dets = dets[dets.confidence >= self.low]
        self._tracks = [t for t in self._tracks if self._frame - t.last_frame <= self.max_age]
        owner = np.full(len(dets), -1)
        if self._tracks and len(dets):
            rows, cols, cost = self._assignment(dets.xyxy)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= self.gate:
                    owner[c] = r
        shown: list[int] = []
        ids: list[str] = []
        for j in range(len(dets)):
            if owner[j] >= 0:
                track = self._tracks[owner[j]]
                track.box, track.last_frame = dets.xyxy[j], self._frame
            else:
                track = _Track(new_track_id(), dets.xyxy[j], self._frame, False)
                self._tracks.append(track)
            track.confirmed = track.confirmed or bool(dets.confidence[j] >= self.confirm)
            if track.confirmed:
                shown.append(j)
                ids.append(track.track_id)
        out = dets[np.asarray(shown, int)]
        return Detections(
            xyxy=out.xyxy,
            confidence=out.confidence,
            tracker_id=np.asarray(ids, dtype=object),
            embedding=out.embedding,
            fresh=out.fresh,
        )

    def _assignment(self, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One-to-one track-box pairs of least head distance (box heights), and the costs."""
        boxes = np.array([t.box for t in self._tracks], np.float64)
        track_h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)[:, None]
        box_h = np.maximum(xyxy[:, 3] - xyxy[:, 1], 1.0)[None, :]
        heads = head_points(xyxy, HEAD_FRACTION)
        gap = np.linalg.norm(head_points(boxes, HEAD_FRACTION)[:, None, :] - heads[None], axis=2)
        cost = gap / np.minimum(track_h, box_h)
        far = (cost > self.gate) | (
            np.maximum(track_h, box_h) > MAX_HEIGHT_RATIO * np.minimum(track_h, box_h)
        )
        cost = np.where(far, self.gate + 1e6, cost)
        rows, cols = linear_sum_assignment(cost)
        return rows, cols, cost
