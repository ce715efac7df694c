"""HOTA / CLEAR / Identity through TrackEval on hand-made cases, and against motmetrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from footfall.evaluation.tracking import box_iou, score


def track(ident: int, frames: range, x0: float = 0.0, dx: float = 10.0) -> np.ndarray:
    """MOT rows of one 20x50 box moving right by ``dx`` px a frame."""
    return np.array([[f, ident, x0 + dx * f, 100.0, 20.0, 50.0, 1.0] for f in frames])


def test_box_iou_of_identical_half_overlapping_and_apart_boxes() -> None:
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0], [50.0, 50.0, 5.0, 5.0]])
    assert box_iou(a, b) == pytest.approx(np.array([[1.0, 50 / 150, 0.0]]))


def test_perfect_tracking_scores_one() -> None:
    gt = np.vstack([track(1, range(1, 11)), track(2, range(1, 11), x0=300)])
    s = score(gt, gt.copy())
    assert (s.hota, s.mota, s.idf1, s.precision, s.recall) == pytest.approx((1, 1, 1, 1, 1))
    assert s.id_switches == 0 and s.gt_ids == s.predicted_ids == 2


def test_one_track_split_in_two_halves_association_not_detection() -> None:
    # Exact boxes, but the system's id changes half way: DetA = 1, AssA = 2/(2+2) = 0.5,
    # HOTA = sqrt(DetA * AssA); CLEAR counts one id switch; IDF1 = 2*2/(4+4) = 0.5.
    gt = track(1, range(1, 5))
    hyp = np.vstack([track(7, range(1, 3)), track(8, range(3, 5))])
    s = score(gt, hyp)
    assert s.deta == pytest.approx(1.0)
    assert s.assa == pytest.approx(0.5)
    assert s.hota == pytest.approx(np.sqrt(0.5))
    assert s.id_switches == 1
    assert s.mota == pytest.approx(1 - 1 / 4)
    assert s.idf1 == pytest.approx(0.5)


def test_no_output_scores_zero_with_every_box_missed() -> None:
    gt = track(1, range(1, 6))
    s = score(gt, gt[:0])
    assert (s.hota, s.recall, s.misses) == (0.0, 0.0, 5)


def test_agrees_with_motmetrics_on_a_messy_case(tmp_path: Path) -> None:
    from edge.evaluate import evaluate

    rng = np.random.default_rng(3)
    gt = np.vstack([track(i, range(1, 31), x0=120.0 * i, dx=3) for i in range(1, 5)])
    hyp = gt.copy()
    hyp[:, 2:4] += rng.normal(0, 4, size=(len(hyp), 2))  # jitter
    hyp = hyp[rng.random(len(hyp)) > 0.1]  # misses
    hyp[(hyp[:, 1] == 2) & (hyp[:, 0] > 15), 1] = 9  # an id switch
    fp = np.array([[f, 20, 600.0, 300.0, 20.0, 50.0, 0.5] for f in range(1, 8)])
    hyp = np.vstack([hyp, fp])
    gt_file, hyp_file = tmp_path / "gt.txt", tmp_path / "hyp.txt"
    np.savetxt(gt_file, gt, delimiter=",", fmt="%.3f")
    np.savetxt(hyp_file, hyp, delimiter=",", fmt="%.3f")
    ours, theirs = score(gt, hyp), evaluate(hyp_file, gt_file)
    assert ours.mota == pytest.approx(theirs.mota)
    assert ours.idf1 == pytest.approx(theirs.idf1)
    assert ours.id_switches == theirs.id_switches
    assert (ours.false_positives, ours.misses) == (theirs.false_positives, theirs.misses)
    assert 0.0 < ours.hota < 1.0
