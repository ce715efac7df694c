"""Re-ID on demand: which boxes get a fresh embedding, which borrow their track's, and the
empty frames that once stopped the pipeline."""

from __future__ import annotations

import numpy as np

from edge.detection import Detections
from edge.reid import embed_detections
from edge.reid.schedule import ReidSchedule


def _dets(boxes: list[list[float]], scores: list[float]) -> Detections:
    return Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.array(scores, np.float32),
    )


def _tracked(
    dets: Detections, ids: list[str], vectors: np.ndarray, fresh: np.ndarray
) -> Detections:
    return Detections(
        xyxy=dets.xyxy, confidence=dets.confidence, tracker_id=np.array(ids),
        embedding=vectors, fresh=fresh,
    )  # fmt: skip


class CountingEmbedder:
    """A stand-in embedder (unit test): one-hot of the crop's mean intensity, and a counter."""

    model_name = "counting"

    def __init__(self) -> None:
        self.crops = 0

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        self.crops += len(crops)
        out = np.zeros((len(crops), 8), np.float32)
        for i, c in enumerate(crops):
            out[i, int(c.mean()) % 8] = 1.0
        return out


def test_a_lone_walker_is_embedded_once_then_every_refresh() -> None:
    schedule = ReidSchedule(fps=10, refresh_s=1.0)
    embedded = []
    for frame in range(25):
        x = 100 + 3 * frame  # walking right, 3 px a frame
        dets = _dets([[x, 100, x + 40, 200]], [0.9])
        plan = schedule.plan(dets)
        embedded.append(bool(plan.embed[0]))
        vector = np.eye(8, dtype=np.float32)[[frame % 8]] if plan.embed[0] else plan.reuse
        assert vector is not None and np.linalg.norm(vector) > 0.5  # never without a vector
        schedule.after_tracking(_tracked(dets, ["a"], vector, plan.embed.copy()))
    assert embedded[0]  # new person: embedded at once
    assert [i for i, e in enumerate(embedded) if e] == [0, 10, 20]  # then once a second
    assert schedule.computed == 3 and schedule.reused == 22


def test_low_scores_are_never_embedded_and_crossing_people_always() -> None:
    schedule = ReidSchedule(fps=10, refresh_s=5.0)
    first = _dets([[100, 100, 140, 200], [300, 100, 340, 200]], [0.9, 0.9])
    plan = schedule.plan(first)
    schedule.after_tracking(
        _tracked(first, ["a", "b"], np.eye(8, dtype=np.float32)[:2], np.ones(2, bool))
    )
    assert plan.embed.tolist() == [True, True]
    # next frame: b walks away clearly (reuses), a meets a newcomer (both embedded),
    # a faint box far off (low score: BoT-SORT matches it by overlap only, never embedded)
    second = _dets(
        [[102, 100, 142, 200], [120, 100, 160, 200], [302, 100, 342, 200], [500, 50, 520, 90]],
        [0.9, 0.8, 0.9, 0.3],
    )
    plan = schedule.plan(second)
    assert plan.embed.tolist() == [True, True, False, False]
    assert plan.reuse is not None and np.allclose(plan.reuse[2], np.eye(8)[1])
    assert np.linalg.norm(plan.reuse[3]) == 0.0  # nothing borrowed for the faint box


def test_refresh_zero_embeds_every_confident_box_every_frame() -> None:
    schedule = ReidSchedule(fps=10, refresh_s=0.0)
    for _ in range(3):
        dets = _dets([[100, 100, 140, 200], [0, 0, 10, 10]], [0.9, 0.2])
        plan = schedule.plan(dets)
        assert plan.embed.tolist() == [True, False] and plan.reuse is None
        schedule.after_tracking(
            _tracked(dets, ["a", "b"], np.eye(8, dtype=np.float32)[:2], plan.embed.copy())
        )


def test_embed_detections_gives_every_frame_an_embedding_even_without_boxes() -> None:
    embedder = CountingEmbedder()
    image = np.full((120, 160, 3), 7, np.uint8)
    boxes = _dets([[10, 10, 50, 100]], [0.9])
    out = embed_detections(embedder, [image, image], [Detections(), boxes])
    assert out[0].embedding is not None and out[0].embedding.shape == (0, 8)
    assert out[1].embedding is not None and out[1].embedding.shape == (1, 8)
    assert out[1].fresh is not None and out[1].fresh.tolist() == [True]
    # nothing selected anywhere (an empty frame, or every box borrowing): no crop is cut
    reuse = np.eye(8, dtype=np.float32)[[3]]
    out = embed_detections(
        embedder, [image, image], [Detections(), boxes],
        select=[None, np.array([False])], reuse=[None, reuse],
    )  # fmt: skip
    assert embedder.crops == 1
    assert out[1].embedding is not None and np.allclose(out[1].embedding, reuse)
    assert out[1].fresh is not None and out[1].fresh.tolist() == [False]
    assert out[0].embedding is not None and out[0].embedding.shape == (0, 8)
