"""Several tile grids at once and dropping group boxes (edge/tiling.py; issue 18, the Mall camera).

The synthetic tests use a detector that finds one 'person' per white block; the last one runs
the real YOLOv8n (OpenVINO FP32) on a Mall frame from ../shared/data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from block_detector import BlockDetector

from edge.config import CameraDetectionConfig, DetectorConfig, EdgeConfig, load_edge_config
from edge.detection import Detections
from edge.tiling import (
    DetectionPlan,
    PerCameraDetector,
    _from_tile,
    drop_group_boxes,
    merge,
    plan_camera,
    tile_windows,
)

REPO = Path(__file__).resolve().parents[2]
MALL_FRAMES = (REPO / ".." / "shared" / "data" / "mall_dataset" / "frames").resolve()


def test_a_list_of_grids_is_read_from_the_config_and_planned() -> None:
    config = EdgeConfig.model_validate(
        {"cameras": {"mall": {"tiles": [[2, 2], [3, 3]], "drop_group_boxes": 0.7}}}
    )
    plan = plan_camera(config.cameras["mall"], config.detector)
    assert plan.grids == ((2, 2), (3, 3)) and plan.tiled
    assert plan.group_share == 0.7
    assert len(plan.windows(640, 480)) == 4 + 9
    assert "tiles 2x2 + 3x3" in plan.describe() and "group boxes dropped" in plan.describe()
    # One grid, as before: [2, 2] is still a single grid, and nothing is dropped by default.
    single = plan_camera(CameraDetectionConfig(tiles=(2, 2)), DetectorConfig())
    assert single.grids == ((2, 2),) and single.more_tiles == () and single.group_share is None
    assert len(single.windows(640, 480)) == 4
    with pytest.raises(ValueError, match="each 1-8"):
        CameraDetectionConfig.model_validate({"tiles": [[2, 2], [9, 3]]})
    with pytest.raises(ValueError, match="at least one"):
        CameraDetectionConfig.model_validate({"tiles": []})


def test_the_mall_camera_is_configured_with_both_grids() -> None:
    config = load_edge_config(REPO / "configs" / "edge" / "detection-cameras.yaml")
    plan = plan_camera(config.cameras["mall"], config.detector)
    assert plan.grids == ((2, 2), (3, 3)) and plan.group_share is not None
    # The other configured camera keeps the whole frame.
    assert not plan_camera(config.cameras["tud-campus"], config.detector).tiled


def test_the_second_grid_finds_a_person_every_tile_of_the_first_cuts() -> None:
    # 400 x 400, overlap 0.25: the 2x2 tiles are x/y 0-229 and 171-400, the 3x3 tiles' middle
    # one is 120-280. A 100 px person at 150-250 is cut by every 2x2 tile, whole in the middle
    # 3x3 tile.
    image = np.zeros((400, 400, 3), np.uint8)
    image[150:250, 150:250] = 255
    only_2x2 = DetectionPlan(320, 0.1, tiles=(2, 2), full_frame=False)
    both = DetectionPlan(320, 0.1, tiles=(2, 2), more_tiles=((3, 3),), full_frame=False)
    fake = BlockDetector()
    detector = PerCameraDetector(
        DetectionPlan(640, 0.1), {"a": only_2x2, "b": both}, lambda size: fake
    )
    found = detector.detect_cameras(["a", "b"], [image, image])
    assert len(found[0]) == 0
    assert len(found[1]) == 1 and found[1].xyxy[0].tolist() == pytest.approx([150, 150, 250, 250])
    # Both cameras' tiles, both grids, in one detector call: 4 + (4 + 9).
    assert [len(call) for call in fake.calls] == [17]


def test_every_grid_batched_with_the_whole_frame_and_merged_once() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[20:60, 300:310] = 255  # small and far: every pass that sees it whole finds it
    plan = DetectionPlan(640, 0.1, tiles=(2, 2), more_tiles=((3, 3),))
    fake = BlockDetector()
    detector = PerCameraDetector(DetectionPlan(640, 0.1), {"mall": plan}, lambda size: fake)
    found = detector.detect_cameras(["mall", "mall"], [image, image])
    assert [len(call) for call in fake.calls] == [2 * (1 + 4 + 9)]
    for dets in found:
        assert len(dets) == 1 and dets.xyxy[0].tolist() == pytest.approx([300, 20, 310, 60])


def group_and_two() -> Detections:
    return Detections(
        xyxy=np.array(
            [
                [100, 100, 130, 200],  # a person
                [135, 105, 165, 205],  # a person beside them
                [105, 98, 160, 208],  # one box around both (5/6 of each inside)
                [300, 100, 360, 220],  # a box holding only one better box: a person
                [305, 110, 330, 160],
            ],
            np.float32,
        ),
        confidence=np.array([0.8, 0.7, 0.5, 0.6, 0.65], np.float32),
    )


def test_drop_group_boxes_drops_a_box_around_two_better_ones_only() -> None:
    kept = drop_group_boxes(group_and_two(), 0.7)
    assert sorted(kept.confidence.tolist()) == pytest.approx([0.6, 0.65, 0.7, 0.8])
    # A group box scoring above the people it holds is kept (they are not better than it).
    dets = group_and_two()
    high = Detections(xyxy=dets.xyxy, confidence=np.array([0.5, 0.4, 0.9, 0.6, 0.65], np.float32))
    assert len(drop_group_boxes(high, 0.7)) == 5
    # A share above what the people lie inside it keeps it too.
    assert len(drop_group_boxes(group_and_two(), 0.9)) == 5


class Fixed:
    """Returns the same boxes for the whole frame, nothing for tiles."""

    def __init__(self, dets: Detections, size: tuple[int, int]) -> None:
        self.dets, self.size = dets, size

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return [self.dets if img.shape[:2] == self.size else Detections() for img in images]


def test_a_camera_asking_for_it_drops_group_boxes_the_others_keep_them() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    fixed = Fixed(group_and_two(), (480, 640))
    plans = {
        "mall": DetectionPlan(640, 0.1, tiles=(2, 2), more_tiles=((3, 3),), group_share=0.7),
        "plain": DetectionPlan(640, 0.1),
    }
    detector = PerCameraDetector(DetectionPlan(640, 0.1), plans, lambda size: fixed)
    mall, plain, other = detector.detect_cameras(["mall", "plain", "x"], [image] * 3)
    assert len(mall) == 4 and 0.5 not in mall.confidence.tolist()
    assert len(plain) == 5 and len(other) == 5


@pytest.mark.skipif(not MALL_FRAMES.is_dir(), reason="../shared/data not present")
def test_on_a_mall_frame_the_edge_gives_the_sweeps_replay_in_one_call() -> None:
    """The edge's batched two-grid inference equals bench/edge/mall_tiles_sweep.py's replay
    (one detector call per pass, then merge, drop group boxes, confidence), on which the Mall
    setting was chosen."""
    import cv2

    from edge.detection_backends import build_detector

    frame = cv2.imread(str(MALL_FRAMES / "seq_000003.jpg"))
    assert frame is not None and frame.shape[:2] == (480, 640)
    model = build_detector(DetectorConfig(backend="openvino", precision="fp32", confidence=0.04))
    calls: list[int] = []

    class Counting:
        def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
            calls.append(len(images))
            return model.detect(images)

    settings = CameraDetectionConfig(
        tiles=[(2, 2), (3, 3)],
        confidence=0.08,
        merge_iou=0.35,
        merge_containment=0.7,
        drop_group_boxes=0.7,
    )
    plan = plan_camera(settings, DetectorConfig())
    edge = PerCameraDetector(
        plan_camera(None, DetectorConfig()), {"mall": plan}, lambda s: Counting()
    )
    found = edge.detect_cameras(["mall"], [frame])[0]
    assert calls == [1 + 4 + 9]

    parts = [model.detect([frame])[0]]
    for grid in ((2, 2), (3, 3)):
        windows = tile_windows(640, 480, grid, 0.25)
        crops = [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in windows]
        parts += [
            _from_tile(d, w, (640, 480)) for w, d in zip(windows, model.detect(crops), strict=True)
        ]
    replay = drop_group_boxes(merge(parts, 0.35, 0.7), 0.7)
    replay = replay[replay.confidence >= 0.08]
    assert len(found) == len(replay) > 20  # a crowd of ~30
    order = np.lexsort(found.xyxy.T[::-1])
    expected = np.lexsort(replay.xyxy.T[::-1])
    assert np.allclose(found.xyxy[order], replay.xyxy[expected], atol=1.0)

    # On this frame the 3x3 tiles add people the 2x2 ones miss (27 -> 33 boxes).
    only_2x2 = plan_camera(settings.model_copy(update={"tiles": (2, 2)}), DetectorConfig())
    fewer = PerCameraDetector(plan, {"mall": only_2x2}, lambda s: model)
    assert len(fewer.detect_cameras(["mall"], [frame])[0]) < len(found)
