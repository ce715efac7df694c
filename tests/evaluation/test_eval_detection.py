"""Detection precision / recall per person-height band, and the crowd count by distance."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from footfall.evaluation.crowd import count_people, match_heads, person_heights
from footfall.evaluation.detection import DetectionScore, band_of, match, score_mot


def test_bands_are_fractions_of_the_frame_height() -> None:
    # 576-px frame: small < 72, medium 72-144, large >= 144.
    assert band_of(np.array([50.0, 71.9, 72.0, 143.0, 144.0, 400.0]), 576).tolist() == [
        0, 0, 1, 1, 2, 2
    ]  # fmt: skip


def test_match_is_one_to_one_at_iou_half() -> None:
    gt = np.array([[0, 0, 10, 20], [100, 0, 110, 20]], float)
    found = np.array([[1, 0, 11, 20], [0, 0, 10, 20], [300, 0, 310, 20]], float)
    gt_hit, found_hit = match(gt, found)
    assert gt_hit.tolist() == [True, False]
    assert found_hit.sum() == 1 and not found_hit[2]


def test_band_precision_and_recall() -> None:
    score = DetectionScore(frame_height=400)
    small = [0, 0, 10, 40]  # 40 px of 400: small
    large = [100, 0, 150, 200]  # 200 px: large
    # Frame 1: both found; frame 2: the small one missed and a small false box.
    score.add(np.array([small, large]), np.array([small, large]))
    score.add(np.array([small, large]), np.array([large, [300, 0, 310, 30]]))
    d = score.as_dict()
    assert d["recall"] == pytest.approx(3 / 4) and d["precision"] == pytest.approx(3 / 4)
    assert d["bands"]["small"]["recall"] == pytest.approx(1 / 2)
    assert d["bands"]["small"]["precision"] == pytest.approx(1 / 2)
    assert d["bands"]["large"]["recall"] == 1.0 and d["bands"]["large"]["precision"] == 1.0
    assert d["bands"]["medium"]["recall"] is None and d["bands"]["medium"]["gt_boxes"] == 0


def test_score_mot_rows() -> None:
    gt = np.array([[1, 1, 0, 0, 10, 40, 1, -1, -1, -1], [2, 1, 0, 0, 10, 40, 1, -1, -1, -1]], float)
    hyp = np.array([[1, 7, 0, 0, 10, 40, 0.9, -1, -1, -1]], float)
    d = score_mot(gt, hyp, [1, 2], 400)
    assert d["recall"] == pytest.approx(0.5) and d["precision"] == 1.0 and d["frames"] == 2


def test_crowd_count_split_by_distance(tmp_path: Path) -> None:
    files = []
    for i in range(2):
        files.append(tmp_path / f"seq_{i:06d}.jpg")
        cv2.imwrite(str(files[-1]), np.zeros((90, 100, 3), np.uint8))
    mask = np.ones((90, 100), bool)
    # Perspective larger at the top (far): rows 0-29 far, 30-59 middle, 60-89 near.
    perspective = np.repeat(np.array([3.0] * 30 + [2.0] * 30 + [1.0] * 30)[:, None], 100, 1)
    heads = [np.array([[10.0, 10.0], [10.0, 40.0], [10.0, 70.0]])] * 2
    # The detector finds the near and middle people (head point 10 % down the box), not the far.
    found = np.array([[5.0, 38.0, 15.0, 58.0], [5.0, 68.0, 15.0, 88.0]])
    result = count_people(
        files, heads, mask, lambda images: [found] * len(images), perspective=perspective
    )
    dist = result.as_dict()["distance"]
    assert dist["far"]["found_ratio"] == 0.0 and dist["far"]["true_mean"] == 1.0
    assert dist["middle"]["found_ratio"] == 1.0 and dist["near"]["found_ratio"] == 1.0
    assert result.mae == pytest.approx(1.0)


def test_heads_match_boxes_one_to_one_by_their_upper_part() -> None:
    heads = np.array([[20.0, 15.0], [100.0, 50.0], [300.0, 300.0]])
    heights = np.array([60.0, 60.0, 60.0])
    boxes = np.array(
        [
            [10, 10, 30, 70],  # head 0 inside its top third
            [12, 12, 32, 72],  # a second box on head 0: one-to-one, so a false one
            [98, 52, 108, 112],  # head 1 just above the box, 8.5 px from its head point
            [280, 310, 320, 340],  # below head 2 by more than a fifth of 60 px
        ],
        float,
    )
    head_ok, box_ok = match_heads(heads, heights, boxes)
    assert head_ok.tolist() == [True, True, False]
    assert box_ok.tolist().count(True) == 2 and box_ok[2] and not box_ok[3]


def test_crowd_heads_found_per_person_height_band(tmp_path: Path) -> None:
    files = [tmp_path / "seq_000001.jpg"]
    cv2.imwrite(str(files[0]), np.zeros((480, 640, 3), np.uint8))
    mask = np.ones((480, 640), bool)
    # pMapN 9 at the top (a 150 / 3 = 50 px person: small), 1 below row 240 (150 px: large).
    perspective = np.repeat(np.array([9.0] * 240 + [1.0] * 240)[:, None], 640, 1)
    assert person_heights(perspective, np.array([[0.0, 0.0]]), 150.0).tolist() == [50.0]
    heads = [np.array([[100.0, 50.0], [300.0, 50.0], [100.0, 300.0]])]
    # The near person is found, one far one too; one box over empty floor.
    found = np.array(
        [
            [80.0, 285.0, 120.0, 435.0, 0.9],
            [90.0, 45.0, 110.0, 95.0, 0.3],
            [500, 300, 540, 450, 0.6],
        ]
    )
    result = count_people(
        files,
        heads,
        mask,
        lambda images: [found] * len(images),
        perspective=perspective,
        person_px=150.0,
        min_scores={"trusted": 0.5},
    )
    det = result.as_dict()["detection"]
    counted, trusted = det["counted"], det["trusted"]
    assert counted["bands"]["small"]["recall"] == 0.5 and counted["bands"]["small"]["gt_heads"] == 2
    assert counted["bands"]["large"]["recall"] == 1.0
    assert counted["precision"] == pytest.approx(2 / 3)
    assert trusted["bands"]["small"]["recall"] == 0.0 and trusted["precision"] == 0.5
    assert counted["box_over_perspective_height"] == pytest.approx(1.0)
