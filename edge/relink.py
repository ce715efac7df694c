"""Re-finding people after an occlusion: new tracker tracks relinked to recently lost ones.

BoT-SORT only re-finds a lost track when the new box still overlaps its motion prediction, so a
person hidden behind a pillar for a few seconds usually comes back under a new id. This step
keeps, for each local track, an appearance memory (exponential moving average of its
embeddings) and where it was last seen; when the tracker starts a new track, it is given the id
of a lost one if

* the lost track was last seen at most ``max_gap_s`` seconds ago,
* the two appearances are close (cosine distance <= ``max_distance``), and
* the person could have walked there: the box centre moved at most ``max_speed`` box heights
  per second of gap (plus one box height).

Candidates are assigned one to one, closest appearance first. Pure numpy, tracker-agnostic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class _Memory:
    appearance: np.ndarray
    last_frame: int
    box: np.ndarray


class Relinker:
    """Maps the tracker's ids to stable local ids, relinking new tracks to lost ones.

    ``fps``: frames per second; ``new_id``: makes a fresh local id; ``keep_s``: how long the
    tracker itself may revive a lost track (its buffer); ``momentum``: weight of the old
    appearance in the moving average. ``max_gap_s=0`` turns relinking off.
    """

    def __init__(
        self,
        fps: float,
        new_id: Callable[[], str],
        *,
        max_gap_s: float = 8.0,
        keep_s: float = 10.0,
        max_distance: float = 0.25,
        max_speed: float = 1.5,
        momentum: float = 0.9,
    ) -> None:
        self.fps = fps
        self.new_id = new_id
        self.max_gap_frames = round(max_gap_s * fps)
        self.keep_frames = max(self.max_gap_frames, round(keep_s * fps)) + 1
        self.max_distance = max_distance
        self.max_speed = max_speed
        self.momentum = momentum
        self.relinked = 0
        self._ids: dict[int, str] = {}
        self._seen: dict[int, int] = {}
        self._memory: dict[str, _Memory] = {}

    def assign(
        self, tracker_ids: np.ndarray, xyxy: np.ndarray, embeddings: np.ndarray | None, frame: int
    ) -> np.ndarray:
        """Local ids (object array of str) for this frame's tracks; ``frame`` counts up by 1."""
        ids = [int(t) for t in tracker_ids]
        new_rows = [i for i, t in enumerate(ids) if t not in self._ids]
        active = {self._ids[t] for t in ids if t in self._ids}
        if new_rows and embeddings is not None and self.max_gap_frames > 0:
            self._relink(new_rows, ids, xyxy, embeddings, frame, active)
        out = []
        for i, t in enumerate(ids):
            local = self._ids.setdefault(t, self.new_id())
            self._seen[t] = frame
            out.append(local)
            self._remember(local, xyxy[i], None if embeddings is None else embeddings[i], frame)
        self._forget(frame)
        return np.array(out, dtype=object)

    def _relink(
        self,
        rows: list[int],
        tracker_ids: list[int],
        xyxy: np.ndarray,
        embeddings: np.ndarray,
        frame: int,
        active: set[str],
    ) -> None:
        lost = [
            (local, m)
            for local, m in self._memory.items()
            if local not in active and 0 < frame - m.last_frame <= self.max_gap_frames
        ]
        if not lost:
            return
        pairs = []
        for i in rows:
            if np.linalg.norm(embeddings[i]) < 0.5:
                continue
            for local, m in lost:
                distance = 1.0 - float(np.dot(embeddings[i], m.appearance))
                if distance <= self.max_distance and self._reachable(m, xyxy[i], frame):
                    pairs.append((distance, i, local))
        used_rows: set[int] = set()
        used_locals: set[str] = set()
        for _, i, local in sorted(pairs):
            if i in used_rows or local in used_locals:
                continue
            self._ids[tracker_ids[i]] = local
            used_rows.add(i)
            used_locals.add(local)
            self.relinked += 1

    def _reachable(self, memory: _Memory, box: np.ndarray, frame: int) -> bool:
        height = max(float(memory.box[3] - memory.box[1]), float(box[3] - box[1]), 1.0)
        old = (memory.box[:2] + memory.box[2:]) / 2
        new = (box[:2] + box[2:]) / 2
        moved = float(np.linalg.norm(new - old)) / height
        return moved <= 1.0 + self.max_speed * (frame - memory.last_frame) / self.fps

    def _remember(
        self, local: str, box: np.ndarray, embedding: np.ndarray | None, frame: int
    ) -> None:
        memory = self._memory.get(local)
        vector = None if embedding is None or np.linalg.norm(embedding) < 0.5 else embedding
        if memory is None:
            if vector is not None:
                self._memory[local] = _Memory(np.array(vector, np.float32), frame, np.array(box))
            return
        memory.last_frame, memory.box = frame, np.array(box)
        if vector is not None:
            mixed = self.momentum * memory.appearance + (1 - self.momentum) * vector
            memory.appearance = mixed / max(float(np.linalg.norm(mixed)), 1e-12)

    def _forget(self, frame: int) -> None:
        stale = [k for k, m in self._memory.items() if frame - m.last_frame > self.max_gap_frames]
        for k in stale:
            del self._memory[k]
        gone = [t for t, last in self._seen.items() if frame - last > self.keep_frames]
        for t in gone:
            del self._seen[t], self._ids[t]
