"""Tracklet start/end messages: quality-weighted mean embeddings, contract-valid, ended on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from edge.tracklets import TrackletBook, observation_quality
from footfall.contract import TrackletEnded, TrackletStarted, decode, encode

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _book() -> TrackletBook:
    return TrackletBook(
        site_id="demo",
        camera_id="cam-1",
        node_id="node-a",
        run_id="0123456789abcdef0123456789abcdef",
        embedding_model="osnet_x0_25_msmt17",
        end_after_s=2.0,
        min_quality=0.2,
    )


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v / np.linalg.norm(v))


def test_quality_favours_big_isolated_confident_boxes() -> None:
    xyxy = np.array(
        [[100, 100, 150, 300], [400, 100, 420, 140], [0, 100, 50, 300], [110, 110, 160, 310]],
        np.float64,
    )
    q = observation_quality(xyxy, np.array([0.9, 0.9, 0.9, 0.9]), 640, 480)
    alone = observation_quality(xyxy[:1], np.array([0.9]), 640, 480)
    assert alone[0] == 0.9  # tall, inside, alone: just its confidence
    assert q[0] < alone[0]  # overlapped by the fourth box
    assert q[1] < 0.3  # 40 px tall
    assert observation_quality(xyxy[2:3], np.array([0.9]), 640, 480)[0] == 0.45  # at the border


def test_a_tracklet_starts_once_and_ends_with_the_weighted_mean() -> None:
    book = _book()
    a, b = _unit(np.r_[1.0, np.zeros(63)]), _unit(np.r_[0.0, 1.0, np.zeros(62)])
    ids = np.array(["00aa00aa00aa00aa"], dtype=object)
    first = book.observe(ids, a[None], np.array([0.9]), T0)
    assert len(first) == 1 and isinstance(first[0], TrackletStarted)
    assert first[0].embedding is not None and first[0].quality == 0.9
    assert book.observe(ids, b[None], np.array([0.3]), T0 + timedelta(seconds=0.5)) == []
    # a poor observation (below min quality) does not count
    book.observe(ids, -a[None], np.array([0.05]), T0 + timedelta(seconds=1))
    # another track moves time on: 3 s later the first is stale
    later = book.observe(
        np.array(["11bb11bb11bb11bb"], dtype=object),
        a[None],
        np.array([0.8]),
        T0 + timedelta(seconds=4),
    )
    ends = [m for m in later if isinstance(m, TrackletEnded)]
    assert len(ends) == 1
    end = ends[0]
    assert end.track_id == "00aa00aa00aa00aa" and end.frame_count == 3
    assert end.started_at == T0 and end.ended_at == T0 + timedelta(seconds=1)
    vector = np.array(end.embedding)
    expected = _unit(0.9 * a + 0.3 * b)
    assert np.allclose(vector, expected, atol=1e-6)
    assert end.embedding_model == "osnet_x0_25_msmt17"
    assert 0.0 < end.quality <= 1.0
    assert decode(encode(end)) == end
    (last,) = book.close()
    assert last.track_id == "11bb11bb11bb11bb"
    assert book.open_count == 0
