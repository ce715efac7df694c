"""Crowd count inside a region of interest: head points, the mask, MAE and MAPE."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from footfall.evaluation.crowd import count_people, head_points, inside

MASK = np.zeros((100, 200), bool)
MASK[:, :100] = True  # the left half of the image is the region of interest


def test_head_points_and_inside() -> None:
    boxes = np.array([[10.0, 10.0, 30.0, 60.0], [150.0, 10.0, 170.0, 60.0]])
    heads = head_points(boxes, 0.1)
    assert heads == pytest.approx(np.array([[20.0, 15.0], [160.0, 15.0]]))
    assert inside(MASK, heads).tolist() == [True, False]
    assert inside(MASK, np.array([[-5.0, 3.0], [300.0, 3.0]])).tolist() == [False, False]


def test_count_people_mae_and_mape(tmp_path: Path) -> None:
    files = []
    for i in range(4):
        files.append(tmp_path / f"seq_{i:06d}.jpg")
        cv2.imwrite(str(files[-1]), np.zeros((100, 200, 3), np.uint8))
    # Frame i has i + 1 heads in the ROI and one outside.
    heads = [
        np.array([[10.0 + 10 * k, 50.0] for k in range(i + 1)] + [[150.0, 50.0]]) for i in range(4)
    ]
    # The "detector" finds two people in the ROI and one outside, whatever the frame.
    found = np.array([[0.0, 40.0, 20.0, 90.0], [30.0, 40.0, 50.0, 90.0], [150, 40, 170, 90]])
    result = count_people(files, heads, MASK, lambda images: [found] * len(images), stride=1)
    assert result.true_counts == [1, 2, 3, 4]
    assert result.system_counts == [2, 2, 2, 2]
    assert result.mae == pytest.approx((1 + 0 + 1 + 2) / 4)
    assert result.mape == pytest.approx((1 / 1 + 0 + 1 / 3 + 2 / 4) / 4)
    assert result.bias == pytest.approx(-0.5)
    strided = count_people(files, heads, MASK, lambda images: [found] * len(images), stride=2)
    assert strided.frames == [1, 3]
