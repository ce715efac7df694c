"""Detector backends selected by config: PyTorch, ONNX Runtime, OpenVINO.

ONNX and OpenVINO models are exported from the configured ``.pt`` weights once, with a dynamic
batch size (frames from several cameras go through one call), and cached under
``<cache_dir>/<sha256[:16]>-<backend>-<image_size>/``: the key is the weights' hash and the input
size, so new weights or another size export again and nothing stale is ever loaded.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from edge.config import DetectorConfig
from edge.detection import Detector, YoloPersonDetector
from edge.weights import sha256_of, verified_weights

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "footfall" / "detectors"


class DetectorBackendError(RuntimeError):
    """A detector backend cannot be built; ``str()`` is one sentence with the fix."""


_EXPORT_NEEDS = {
    "onnx": (("onnx", "onnx"), ("onnxslim", "onnxslim"), ("onnxruntime", "onnxruntime")),
    "openvino": (("openvino", "openvino"),),
}


def _check_modules(backend: str) -> None:
    missing = [pkg for mod, pkg in _EXPORT_NEEDS[backend] if importlib.util.find_spec(mod) is None]
    if missing:
        raise DetectorBackendError(
            f"Detector backend {backend} needs {', '.join(missing)}, not installed here; install "
            f"with: pip install {' '.join(missing)} (or use detector.backend: torch)."
        )


def exported_model(weights: Path, backend: str, image_size: int, cache_dir: Path | None) -> Path:
    """The cached ONNX file or OpenVINO folder for ``weights`` at ``image_size``, exported once."""
    _check_modules(backend)
    key = f"{sha256_of(weights)[:16]}-{backend}-{image_size}"
    folder = (cache_dir or DEFAULT_CACHE_DIR) / key
    target = folder / (
        f"{weights.stem}.onnx" if backend == "onnx" else f"{weights.stem}_openvino_model"
    )
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / weights.name
    shutil.copyfile(weights, staged)
    log.info(
        "exporting %s to %s at %d px (once; cached in %s)",
        weights.name,
        backend,
        image_size,
        folder,
    )
    from ultralytics import YOLO  # type: ignore[attr-defined]

    try:
        options = {"simplify": True} if backend == "onnx" else {}
        produced = YOLO(str(staged), task="detect").export(
            format=backend, imgsz=image_size, dynamic=True, verbose=False, **options
        )
    except Exception as exc:  # the exporter raises many types; the sentence is what matters
        raise DetectorBackendError(
            f"Exporting {weights} to {backend} failed ({type(exc).__name__}: {exc}); "
            "use detector.backend: torch."
        ) from None
    finally:
        staged.unlink(missing_ok=True)
    produced_path = Path(str(produced))
    if produced_path != target:
        produced_path.rename(target)
    return target


def _torch(config: DetectorConfig, weights: Path) -> Detector:
    return YoloPersonDetector(
        weights,
        image_size=config.image_size,
        confidence=config.confidence,
        device=config.device,
        half=config.half,
        iou=config.nms_iou,
    )


def _exported(backend: str) -> Callable[[DetectorConfig, Path], Detector]:
    def build(config: DetectorConfig, weights: Path) -> Detector:
        model = exported_model(weights, backend, config.image_size, config.cache_dir)
        return YoloPersonDetector(
            model, image_size=config.image_size, confidence=config.confidence, iou=config.nms_iou
        )

    return build


DETECTOR_BACKENDS: dict[str, Callable[[DetectorConfig, Path], Detector]] = {
    "torch": _torch,
    "onnx": _exported("onnx"),
    "openvino": _exported("openvino"),
}


def build_detector(config: DetectorConfig) -> Detector:
    """The configured detector, weights verified (raises WeightsError / DetectorBackendError)."""
    factory = DETECTOR_BACKENDS.get(config.backend)
    if factory is None:
        valid = ", ".join(DETECTOR_BACKENDS)
        raise DetectorBackendError(
            f"Unknown detector backend '{config.backend}'; valid choices: {valid}."
        )
    return factory(config, verified_weights(config.weights, config.sha256))
