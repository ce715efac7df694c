"""Detector backends: ONNX export cached by weights hash and size, same people found as PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from edge_footage import PETS_VIDEO, needs_pets

from edge.config import DetectorConfig
from edge.detection_backends import DetectorBackendError, build_detector, exported_model
from edge.sources import read_frame
from edge.weights import verified_weights


@needs_pets
def test_onnx_is_exported_once_and_finds_what_pytorch_finds(tmp_path: Path) -> None:
    image = read_frame(str(PETS_VIDEO), "pets", 100)
    torch_found = build_detector(DetectorConfig(image_size=320)).detect([image])[0]
    config = DetectorConfig(backend="onnx", image_size=320, cache_dir=tmp_path)
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
    with pytest.raises(DetectorBackendError, match="valid choices: torch, onnx, openvino"):
        build_detector(bogus)
