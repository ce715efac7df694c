"""Detector backends: ONNX and OpenVINO exports cached by weights hash and size, INT8 cached by
calibration set; each finds the same people as PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from edge_footage import CAMPUS_VIDEO, PETS_VIDEO, needs_pets

from edge.config import DetectorConfig
from edge.detection import Detections
from edge.detection_backends import DetectorBackendError, build_detector, exported_model
from edge.sources import read_frame
from edge.weights import verified_weights


@needs_pets
def test_onnx_is_exported_once_and_finds_what_pytorch_finds(tmp_path: Path) -> None:
    image = read_frame(str(PETS_VIDEO), "pets", 100)
    torch_config = DetectorConfig(backend="torch", precision="fp32", image_size=320)
    torch_found = build_detector(torch_config).detect([image])[0]
    config = DetectorConfig(backend="onnx", precision="fp32", image_size=320, cache_dir=tmp_path)
    onnx_detector = build_detector(config)
    model = exported_model(verified_weights(), "onnx", 320, tmp_path)
    assert model.parent.name.startswith("f59b3d833e2ff32e-onnx-320")
    stamp = model.stat().st_mtime_ns
    build_detector(config)
    assert model.stat().st_mtime_ns == stamp  # cached, not exported again
    batch = onnx_detector.detect([image, image[:, ::-1].copy()])  # two cameras, one call
    assert len(batch) == 2
    assert abs(len(batch[0]) - len(torch_found)) <= 1 and len(torch_found) >= 4
    # the same boxes to within a few pixels, matched greedily
    for box in torch_found.xyxy[torch_found.confidence > 0.5]:
        assert np.abs(batch[0].xyxy - box).max(axis=1).min() < 4.0


def test_unknown_backend_lists_the_choices() -> None:
    bogus = DetectorConfig.model_construct(backend="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(DetectorBackendError, match="valid choices: openvino, torch, onnx"):
        build_detector(bogus)


def _same_people(found: Detections, reference: Detections, tolerance_px: float) -> float:
    """Share of the reference's confident boxes that ``found`` has within ``tolerance_px``."""
    confident = reference.xyxy[reference.confidence > 0.5]
    if len(found) == 0:
        return 0.0
    hits = [np.abs(found.xyxy - box).max(axis=1).min() < tolerance_px for box in confident]
    return float(np.mean(hits))


@needs_pets
def test_openvino_fp32_and_int8_find_what_pytorch_finds(tmp_path: Path) -> None:
    frames = [read_frame(str(PETS_VIDEO), "pets", i) for i in (100, 400)]
    torch_config = DetectorConfig(backend="torch", precision="fp32", image_size=320)
    reference = build_detector(torch_config).detect(frames)
    fp32 = DetectorConfig(backend="openvino", precision="fp32", image_size=320, cache_dir=tmp_path)
    for found, ref in zip(build_detector(fp32).detect(frames), reference, strict=True):
        assert abs(len(found) - len(ref)) <= 1 and len(ref) >= 3
        assert _same_people(found, ref, 2.0) == 1.0  # the same network: the same boxes
    int8 = fp32.model_copy(update={"precision": "int8", "calibration_frames": 16})
    detector = build_detector(int8, [str(PETS_VIDEO)])
    quantized = list(tmp_path.glob("*-openvino-320/int8-*/*.xml"))
    assert len(quantized) == 1
    stamp = quantized[0].stat().st_mtime_ns
    build_detector(int8, [str(PETS_VIDEO)])
    assert quantized[0].stat().st_mtime_ns == stamp  # cached for this calibration set
    for found, ref in zip(detector.detect(frames), reference, strict=True):
        assert _same_people(found, ref, 6.0) >= 0.8  # quantization moves boxes a little
    # different footage is a different calibration set: quantized again, beside the first
    build_detector(int8, [str(PETS_VIDEO), str(CAMPUS_VIDEO)])
    assert len(list(tmp_path.glob("*-openvino-320/int8-*/*.xml"))) == 2


def test_int8_without_footage_says_what_to_do(tmp_path: Path) -> None:
    config = DetectorConfig(precision="int8", cache_dir=tmp_path)
    with pytest.raises(DetectorBackendError, match="calibration frames from the site's own"):
        build_detector(config, [])
    with pytest.raises(DetectorBackendError, match=r"needs detector\.backend: openvino"):
        build_detector(config.model_copy(update={"backend": "torch"}), [str(PETS_VIDEO)])


def test_openvino_survives_empty_and_tiny_frames(tmp_path: Path) -> None:
    detector = build_detector(DetectorConfig(precision="fp32", image_size=320, cache_dir=tmp_path))
    blank = np.zeros((288, 384, 3), np.uint8)
    tiny = np.full((24, 40, 3), 127, np.uint8)
    found = detector.detect([blank, tiny])  # two sizes in one batch
    assert [len(d) for d in found] == [0, 0]
    assert all(d.xyxy.shape == (0, 4) for d in found)
