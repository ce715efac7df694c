"""Normal runs print nothing a user must ignore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_default_reid_model_loads_without_a_pkg_resources_warning() -> None:
    code = (
        "from edge.reid.mobilenet_hist import MobilenetHistEmbedder; "
        "MobilenetHistEmbedder(runtime='torch')"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=True
    )
    assert "pkg_resources" not in done.stderr, done.stderr


def test_first_exports_print_no_banner_and_no_tracing_warnings(tmp_path: Path) -> None:
    # The first ONNX / OpenVINO use printed ultralytics' export banner ("Validate: yolo val …
    # coco.yaml", "Visualize: https://netron.app") and torch.jit.trace warnings.
    code = (
        "import logging, sys; logging.basicConfig(level=logging.INFO); "
        "from pathlib import Path; "
        "from edge.detection_backends import exported_model; "
        "from edge.weights import verified_weights; "
        "w = verified_weights(); cache = Path(sys.argv[1]); "
        "print(exported_model(w, 'onnx', 96, cache)); "
        "print(exported_model(w, 'openvino', 96, cache))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    onnx, openvino = done.stdout.split()[-2:]
    assert Path(onnx).is_file() and Path(openvino).is_dir()
    shown = done.stdout + done.stderr
    for noise in ("Validate:", "Visualize:", "netron", "coco.yaml", "torch.jit", "TracerWarning"):
        assert noise not in shown, shown
    assert "exporting yolov8n.pt to onnx at 96 px (once; cached in" in shown  # our one line
