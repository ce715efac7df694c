"""Per-camera detection (edge/tiling.py): tiles, the merge, the ROI, auto settings, batching."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from block_detector import BlockDetector

from edge.config import CameraDetectionConfig, DetectorConfig, EdgeConfig, EdgeConfigError
from edge.detection import Detections
from edge.tiling import (
    DetectionPlan,
    PerCameraDetector,
    auto_image_size,
    auto_tiles,
    far_person_height_px,
    merge,
    plan_camera,
    tile_windows,
)
from footfall.site import load_site


def test_tile_windows_cover_the_frame_with_overlap() -> None:
    windows = tile_windows(800, 600, (2, 2), 0.25)
    assert len(windows) == 4
    assert min(w[0] for w in windows) == 0 and max(w[2] for w in windows) == 800
    assert min(w[1] for w in windows) == 0 and max(w[3] for w in windows) == 600
    (a, b) = windows[0], windows[1]
    overlap = a[2] - b[0]
    assert overlap == pytest.approx(0.25 * (a[2] - a[0]), abs=1)
    assert tile_windows(800, 600, (1, 1), 0.25) == [(0, 0, 800, 600)]


def test_merge_keeps_one_box_per_person() -> None:
    a = Detections(
        xyxy=np.array([[10, 10, 30, 60]], np.float32), confidence=np.array([0.8], np.float32)
    )
    b = Detections(
        xyxy=np.array([[11, 10, 31, 61], [100, 10, 120, 60]], np.float32),
        confidence=np.array([0.9, 0.5], np.float32),
    )
    merged = merge([a, b], 0.55)
    assert len(merged) == 2
    assert merged.confidence.tolist() == pytest.approx([0.9, 0.5])


def test_merge_containment_drops_the_half_person_beside_the_whole_one() -> None:
    whole = Detections(
        xyxy=np.array([[10, 10, 40, 100]], np.float32), confidence=np.array([0.8], np.float32)
    )
    # A tile saw the upper half of the same person (IoU 0.5: NMS at 0.55 keeps it) and,
    # overlapping the whole one by a third of its own area, a neighbour.
    tile = Detections(
        xyxy=np.array([[10, 10, 40, 55], [30, 20, 60, 110]], np.float32),
        confidence=np.array([0.6, 0.7], np.float32),
    )
    assert len(merge([whole, tile], 0.55)) == 3
    merged = merge([whole, tile], 0.55, containment=0.85)
    assert merged.confidence.tolist() == pytest.approx([0.8, 0.7])
    # The setting reaches the camera's plan.
    plan = plan_camera(
        CameraDetectionConfig(tiles=(2, 2), merge_containment=0.85), DetectorConfig()
    )
    assert plan.merge_containment == 0.85 and "containment 0.85" in plan.describe()


def test_tiles_find_a_person_and_drop_boxes_cut_by_a_tile_edge() -> None:
    image = np.zeros((400, 400, 3), np.uint8)
    image[300:340, 300:310] = 255  # a small person in the bottom-right tile
    fake = BlockDetector()
    plan = DetectionPlan(image_size=320, confidence=0.1, tiles=(2, 2), overlap=0.25)
    detector = PerCameraDetector(DetectionPlan(640, 0.1), {"cam": plan}, lambda size: fake)
    found = detector.detect_cameras(["cam"], [image])[0]
    # The whole frame and the bottom-right tile see it whole; the top tiles not at all; the
    # merge keeps one box, in frame pixels.
    assert len(found) == 1
    assert found.xyxy[0].tolist() == pytest.approx([300, 300, 310, 340])
    # One detector call for the whole frame and its four tiles together.
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 5
    # A block straddling the vertical tile boundary is cut in the left tile: dropped there.
    image2 = np.zeros((400, 400, 3), np.uint8)
    image2[100:140, 220:240] = 255
    found = detector.detect_cameras(["cam"], [image2])[0]
    assert len(found) == 1 and found.xyxy[0].tolist() == pytest.approx([220, 100, 240, 140])


def test_cameras_share_one_call_per_input_size_and_the_roi_filters() -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    image[150:190, 20:30] = 255
    sizes: dict[int, BlockDetector] = {}

    def detector_for(size: int) -> BlockDetector:
        return sizes.setdefault(size, BlockDetector())

    plans = {
        "roi": DetectionPlan(
            640, 0.1, roi=(((100.0, 0.0), (200.0, 0.0), (200.0, 200.0), (100.0, 200.0)),)
        ),
        "big": DetectionPlan(960, 0.1),
    }
    detector = PerCameraDetector(DetectionPlan(640, 0.1), plans, detector_for)
    found = detector.detect_cameras(["roi", "other", "big"], [image, image, image])
    assert [len(f) for f in found] == [0, 1, 1]  # the ROI camera's person is outside its ROI
    assert len(sizes[640].calls) == 1 and len(sizes[640].calls[0]) == 2
    assert len(sizes[960].calls) == 1 and len(sizes[960].calls[0]) == 1


def test_a_camera_confidence_above_the_shared_one_drops_weak_boxes() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[10:50, 10:20] = 255
    detector = PerCameraDetector(
        DetectionPlan(640, 0.1), {"strict": DetectionPlan(640, 0.95)}, lambda s: BlockDetector()
    )
    found = detector.detect_cameras(["strict", "x"], [image, image])
    assert [len(f) for f in found] == [0, 1]


def test_far_person_height_from_the_demo_homography() -> None:
    site = load_site(Path("configs/sites/demo.yaml"))
    pets = {c.id: c for c in site.cameras}["pets-view1"]
    points = np.asarray([p.image for p in pets.calibration.points])
    far = far_person_height_px(pets.homography(), points)
    # PETS09's far people (top of the walked area) are ~50-60 px tall in the ground truth.
    assert 35 < far < 90
    plan = plan_camera(
        CameraDetectionConfig(image_size="auto", tiles="auto"), DetectorConfig(), pets
    )
    assert plan.far_person_px == pytest.approx(far)
    assert plan.image_size in (640, 768, 960, 1280)
    # Without a homography, auto falls back to the detector's size and no tiles.
    plain = plan_camera(CameraDetectionConfig(image_size="auto", tiles="auto"), DetectorConfig())
    assert plain.image_size == 640 and plain.tiles == (1, 1)


def test_auto_rules() -> None:
    assert auto_image_size((768, 576), 80.0, 48, 640) == 640
    assert auto_image_size((768, 576), 50.0, 48, 640) == 768
    assert auto_image_size((1920, 1080), 30.0, 48, 640) == 1280
    assert auto_image_size((768, 576), None, 48, 640) == 640
    assert auto_tiles((768, 576), 80.0, 640, 48) == (1, 1)
    assert auto_tiles((1920, 1080), 30.0, 640, 48)[0] >= 2


def test_camera_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        CameraDetectionConfig(image_size=700)
    with pytest.raises(ValueError, match="columns, rows"):
        CameraDetectionConfig(tiles=(0, 2))
    with pytest.raises(ValueError, match="at least 3"):
        CameraDetectionConfig(roi=[[(0, 0), (1, 1)]])
    config = EdgeConfig.model_validate({"cameras": {"mall": {"tiles": [2, 2], "confidence": 0.2}}})
    assert config.cameras["mall"].tiles == (2, 2)


def test_unknown_camera_setting_is_one_sentence(tmp_path: Path) -> None:
    from edge.config import load_edge_config

    path = tmp_path / "edge.yaml"
    path.write_text("cameras:\n  mall: {tile: [2, 2]}\n")
    with pytest.raises(EdgeConfigError, match=r"cameras\.mall\.tile: Extra inputs"):
        load_edge_config(path)


def test_the_node_keeps_the_plain_detector_unless_a_camera_needs_more(monkeypatch) -> None:
    from edge import detection_backends

    built: list[int] = []

    def fake_build(config: DetectorConfig, calibration: Sequence[str] = ()) -> BlockDetector:
        built.append(config.image_size)
        return BlockDetector()

    monkeypatch.setattr(detection_backends, "build_detector", fake_build)
    site = load_site(Path("configs/sites/demo.yaml"))
    cameras = {c.id: c for c in site.cameras}
    # The demo site's far people are >= 48 px at 640: the plain detector, as before.
    plain = detection_backends.build_camera_detector(EdgeConfig(), [], cameras)
    assert isinstance(plain, BlockDetector)
    # A camera asking for tiles gets its plan; auto sizes come from its homography.
    config = EdgeConfig.model_validate({"cameras": {"pets-view1": {"tiles": [2, 2]}}})
    tiled = detection_backends.build_camera_detector(config, [], cameras)
    assert isinstance(tiled, PerCameraDetector)
    assert tiled.plan("pets-view1").tiles == (2, 2)
    assert tiled.plan("tud-stadtmitte").tiles == (1, 1)
    # A camera seeing small far people is given a larger input automatically (no tiles).
    far = cameras["pets-view1"].model_copy(update={"resolution": (1536, 1152)})
    wide = detection_backends.build_camera_detector(EdgeConfig(), [], {"pets-view1": far})
    assert isinstance(wide, PerCameraDetector)
    assert wide.plan("pets-view1").image_size > 640 and wide.plan("pets-view1").tiles == (1, 1)


def test_tiles_can_cover_only_the_far_part_of_the_frame() -> None:
    plan = DetectionPlan(640, 0.1, tiles=(2, 1), overlap=0.25, tile_area=(0, 0, 640, 240))
    windows = plan.windows(640, 480)
    assert len(windows) == 2
    assert all(w[1] == 0 and w[3] == 240 for w in windows)
    assert windows[0][0] == 0 and windows[-1][2] == 640
    fake = BlockDetector()
    image = np.zeros((480, 640, 3), np.uint8)
    image[20:50, 500:508] = 255  # far and small, inside the tiled area
    detector = PerCameraDetector(DetectionPlan(640, 0.1), {"cam": plan}, lambda s: fake)
    found = detector.detect_cameras(["cam"], [image])[0]
    assert len(found) == 1 and found.xyxy[0].tolist() == pytest.approx([500, 20, 508, 50])
    assert len(fake.calls[0]) == 3  # the whole frame and two tiles
    with pytest.raises(ValueError, match="tile_area"):
        CameraDetectionConfig(tile_area=(10, 0, 5, 100))
