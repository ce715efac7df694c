"""Per-camera multi-object tracking: the ``Tracker`` protocol and the boxmot BoT-SORT adapter.

This module is the only place that touches boxmot objects. boxmot's integer track ids never
leave it: each becomes a fresh random ``new_track_id()`` (random per run, never derived from the
person), or the id of a recently lost track it is relinked to (:mod:`edge.relink`); that is what
``Detections.tracker_id`` carries.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import numpy as np

from edge.config import TrackerConfig
from edge.detection import Detections
from edge.relink import Relinker
from footfall.contract import new_track_id


class Tracker(Protocol):
    """Follows people across the frames of one camera."""

    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        """Confirmed tracks in this frame, with ``tracker_id`` set (and ``embedding`` when the
        matched detection had one)."""
        ...


def _neutral(dim: int) -> np.ndarray:
    signs = np.where(np.arange(dim) % 2 == 0, 1.0, -1.0)
    return np.asarray(signs / np.sqrt(dim), np.float32)


def _vetoing_botsort(base: type) -> type:
    """boxmot's BotSort whose first association never matches a track and a box that look like
    different people (``appearance_veto``, see :class:`edge.config.TrackerConfig`)."""
    from boxmot.trackers.common.association.matching import embedding_distance

    class VetoingBotSort(base):  # type: ignore[misc]
        appearance_veto = 0.0
        neutral: np.ndarray | None = None

        def _first_association_cost(self, tracks: list[Any], detections: list[Any]) -> np.ndarray:
            cost: np.ndarray = super()._first_association_cost(tracks, detections)
            if not self.use_embeddings or self.appearance_veto <= 0.0 or not cost.size:
                return cost
            appearance = embedding_distance(tracks, detections)
            far = appearance > self.appearance_veto
            if self.neutral is not None:
                # A box or a track with only the neutral placeholder (nothing embedded) says
                # nothing about appearance: never vetoed.
                det = np.asarray([d.curr_feat for d in detections], np.float32)
                trk = np.asarray([t.smooth_feat for t in tracks], np.float32)
                far &= (np.abs(trk @ self.neutral) < 0.9)[:, None]
                far &= (np.abs(det @ self.neutral) < 0.9)[None, :]
            return np.where(far, 1.0, cost)

    return VetoingBotSort


class BotSortTracker:
    """boxmot BoT-SORT with our embeddings (computed outside, batched across cameras).

    ``fps``: the camera's frame rate (the track buffer is given in seconds);
    ``use_embeddings``: associate by appearance as well as by box overlap.
    """

    def __init__(self, config: TrackerConfig, fps: float, use_embeddings: bool) -> None:
        from boxmot import BotSort

        logging.getLogger("boxmot").setLevel(logging.WARNING)  # it logs its settings at INFO
        self.use_embeddings = use_embeddings
        self._tracker = _vetoing_botsort(BotSort)(
            track_high_thresh=config.track_high_thresh,
            track_low_thresh=config.track_low_thresh,
            new_track_thresh=config.new_track_thresh,
            # boxmot scales the buffer by frame_rate / 30: this gives track_buffer_s * fps frames.
            track_buffer=max(1, round(config.track_buffer_s * 30)),
            frame_rate=max(1, round(fps)),
            match_thresh=config.match_thresh,
            second_match_thresh=config.second_match_thresh,
            proximity_thresh=config.proximity_thresh,
            appearance_thresh=config.appearance_thresh,
            fuse_first_associate=config.fuse_first_associate,
            use_cmc=config.use_cmc,
            cmc_method=config.cmc_method,
            use_embeddings=use_embeddings,
        )
        self._tracker.appearance_veto = config.appearance_veto
        self._relinker = Relinker(
            fps,
            new_track_id,
            max_gap_s=config.relink_max_gap_s if config.relink else 0.0,
            max_distance=config.relink_max_distance,
            max_speed=config.relink_max_speed,
            keep_s=config.track_buffer_s + 1.0,
        )
        self._sample = 0
        self._dim = 1  # embedding size, learnt from the first embedded frame

    def update(self, detections: Detections, image: np.ndarray) -> Detections:
        import torch
        from boxmot.structures import Boxes
        from boxmot.structures import Detections as BoxmotDetections

        dets = detections.clipped(image.shape[1], image.shape[0])
        vectors = dets.embedding
        if vectors is not None and vectors.shape[1] == 0:
            vectors = None
        embeddings = None
        if self.use_embeddings:
            if vectors is None:
                # No box was embedded (an empty frame, or only low scores that BoT-SORT matches
                # by overlap alone): neutral placeholders (below).
                vectors = np.zeros((len(dets), self._dim), np.float32)
            if vectors.shape[1] != self._dim or self._tracker.neutral is None:
                self._tracker.neutral = _neutral(vectors.shape[1])
            self._dim = vectors.shape[1]
            missing = np.linalg.norm(vectors, axis=1) < 0.5
            if missing.any():
                # A box without an embedding gets a neutral vector: alternating signs, about
                # orthogonal to every real feature, so its appearance distance to every track is
                # ~1 (gated out) and BoT-SORT matches it by box overlap alone.
                vectors = vectors.copy()
                vectors[missing] = _neutral(self._dim)
            embeddings = torch.from_numpy(np.ascontiguousarray(vectors, np.float32))
        self._sample += 1
        tracks = self._tracker.update(
            BoxmotDetections(
                geometry=Boxes(torch.from_numpy(np.ascontiguousarray(dets.xyxy, np.float32))),
                scores=torch.from_numpy(np.ascontiguousarray(dets.confidence.clip(0, 1))),
                class_ids=torch.zeros(len(dets), dtype=torch.int64),
                sample_id=f"f{self._sample}",
                embeddings=embeddings,
            ),
            image,
        )
        xyxy = tracks.geometry.values.numpy().astype(np.float32).reshape(-1, 4)
        det_index = tracks.detection_indices.numpy()
        matched = det_index >= 0
        embedding = fresh = None
        if dets.embedding is not None and dets.embedding.shape[1] > 0:
            embedding = np.zeros((len(det_index), dets.embedding.shape[1]), np.float32)
            embedding[matched] = dets.embedding[det_index[matched]]
            fresh = np.zeros(len(det_index), bool)
            source = dets.fresh if dets.fresh is not None else np.ones(len(dets), bool)
            fresh[matched] = source[det_index[matched]]
        ids = self._relinker.assign(tracks.track_ids.numpy(), xyxy, embedding, self._sample)
        return Detections(
            xyxy=xyxy,
            confidence=tracks.scores.numpy().astype(np.float32),
            tracker_id=ids,
            embedding=embedding,
            fresh=fresh,
        ).clipped(image.shape[1], image.shape[0])


def build_tracker(config: TrackerConfig, fps: float, use_embeddings: bool) -> Tracker:
    """The tracker ``config.type`` names: BoT-SORT, or the head linker (edge/linker.py)."""
    if config.type == "linker":
        from edge.linker import HeadLinker

        return HeadLinker(config, fps)
    return BotSortTracker(config, fps, use_embeddings)
