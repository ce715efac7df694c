"""Detector backends selected by config: OpenVINO (FP32/FP16/INT8), PyTorch, ONNX Runtime.

ONNX and OpenVINO models are exported from the configured ``.pt`` weights once, with a dynamic
batch size (frames from several cameras go through one call), and cached under
``<cache_dir>/<sha256[:16]>-<backend>-<image_size>/``: the key is the weights' hash and the input
size, so new weights or another size export again and nothing stale is ever loaded.

INT8 (``precision: int8``, OpenVINO) is post-training quantization of that export with NNCF,
calibrated on ``calibration_frames`` frames taken evenly from the site's own cameras (or the
replayed footage), cached beside it under ``int8-<calibration key>/``: the key hashes the
calibration sources (paths, sizes) and the frame count, so another site or new footage
quantizes again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge.config import CameraDetectionConfig, DetectorConfig, EdgeConfig
from edge.detection import Detector, YoloPersonDetector
from edge.openvino_runtime import DEFAULT_CACHE_DIR as CACHE_ROOT
from edge.quiet import quiet_conversion
from edge.weights import sha256_of, verified_weights
from footfall.errors import UserError

if TYPE_CHECKING:
    from footfall.site import Camera

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = CACHE_ROOT / "detectors"


class DetectorBackendError(UserError, RuntimeError):
    """A detector backend cannot be built; ``str()`` is one sentence with the fix."""


_EXPORT_NEEDS = {
    "onnx": (("onnx", "onnx"), ("onnxslim", "onnxslim"), ("onnxruntime", "onnxruntime")),
    "openvino": (("openvino", "openvino"),),
    "int8": (("openvino", "openvino"), ("nncf", "nncf")),
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
        with quiet_conversion():  # no exporter banner, no tracing warnings
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


def _torch(config: DetectorConfig, weights: Path, calibration: Sequence[str]) -> Detector:
    if config.precision == "int8":
        raise DetectorBackendError(
            "detector.precision int8 needs detector.backend: openvino (the torch backend runs "
            "fp32, or fp16 on CUDA)."
        )
    return YoloPersonDetector(
        weights,
        image_size=config.image_size,
        confidence=config.confidence,
        device=config.device,
        half=config.half or config.precision == "fp16",
        iou=config.nms_iou,
    )


def _onnx(config: DetectorConfig, weights: Path, calibration: Sequence[str]) -> Detector:
    if config.precision != "fp32":
        raise DetectorBackendError(
            f"detector.precision {config.precision} is not available with the onnx backend; "
            "use precision: fp32, or backend: openvino."
        )
    model = exported_model(weights, "onnx", config.image_size, config.cache_dir)
    return YoloPersonDetector(
        model, image_size=config.image_size, confidence=config.confidence, iou=config.nms_iou
    )


def _openvino(config: DetectorConfig, weights: Path, calibration: Sequence[str]) -> Detector:
    from edge.detection_openvino import OpenVinoPersonDetector

    folder = exported_model(weights, "openvino", config.image_size, config.cache_dir)
    xml = next(folder.glob("*.xml"))
    if config.precision == "int8":
        xml = int8_model(xml, config, calibration)
    return OpenVinoPersonDetector(
        xml,
        image_size=config.image_size,
        confidence=config.confidence,
        iou=config.nms_iou,
        precision=config.precision,
    )


def calibration_key(sources: Sequence[str], frames: int) -> str:
    """Hash of the calibration set: each source's path and size (files), and the frame count."""
    digest = hashlib.sha256(str(frames).encode())
    for uri in sorted({str(Path(s).resolve()) for s in sources}):
        path = Path(uri)
        size = path.stat().st_size if path.is_file() else len(list(path.iterdir()))
        digest.update(f"{path.resolve()}:{size}\n".encode())
    return digest.hexdigest()[:12]


def calibration_images(sources: Sequence[str], frames: int) -> Iterator[np.ndarray]:
    """About ``frames`` frames spread evenly over the length of every readable source."""
    from edge.sources import FileSource, SourceError, read_frame

    per_source = max(1, frames // max(1, len(sources)))
    for uri in sources:
        try:
            count = FileSource(uri, "calibration").frame_count() or per_source
        except SourceError as exc:
            log.warning("calibration: skipping %s (%s)", uri, exc)
            continue
        for index in np.linspace(0, max(0, count - 1), per_source).astype(int):
            try:
                yield read_frame(uri, "calibration", int(index))
            except SourceError:
                continue


def int8_model(fp32_xml: Path, config: DetectorConfig, sources: Sequence[str]) -> Path:
    """The cached INT8 IR for this export and calibration set, quantized once (NNCF)."""
    _check_modules("int8")
    files = sorted({str(Path(s).resolve()) for s in sources if "://" not in s and Path(s).exists()})
    if not files:
        raise DetectorBackendError(
            "detector.precision int8 needs calibration frames from the site's own cameras, and "
            "none of them is a readable file here; give the site (--site) or footage, or set "
            "detector.precision: fp32."
        )
    key = calibration_key(files, config.calibration_frames)
    target = fp32_xml.parent.parent / f"int8-{key}" / fp32_xml.name
    if target.exists():
        return target
    from edge.detection_openvino import quantize_int8

    log.info(
        "quantizing %s to INT8 on %d frames of %d camera(s) (once; cached in %s)",
        fp32_xml.name,
        config.calibration_frames,
        len(files),
        target.parent,
    )
    images = list(calibration_images(files, config.calibration_frames))
    if not images:
        raise DetectorBackendError(
            "detector.precision int8: no calibration frame could be read from "
            f"{', '.join(files)}; check the footage, or set detector.precision: fp32."
        )
    staged = target.parent.with_name(f"{target.parent.name}.partial-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    try:
        quantize_int8(fp32_xml, staged / fp32_xml.name, images, config.image_size)
    except Exception as exc:  # NNCF raises many types; the sentence is what matters
        raise DetectorBackendError(
            f"INT8 quantization failed ({type(exc).__name__}: {exc}); set detector.precision: fp32."
        ) from None
    from edge.openvino_runtime import publish_folder

    publish_folder(staged, target.parent)
    return target


DETECTOR_BACKENDS: dict[str, Callable[[DetectorConfig, Path, Sequence[str]], Detector]] = {
    "openvino": _openvino,
    "torch": _torch,
    "onnx": _onnx,
}


def check_device(device: str) -> None:
    """Raise DetectorBackendError (one sentence) when ``device`` (``cuda[:N]``) is not here."""
    if not device.startswith("cuda"):
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if count == 0:
        raise DetectorBackendError(
            f"detector.device is {device}, but there is no CUDA device here; "
            "use detector.device: cpu in the edge config."
        )
    if index >= count:
        raise DetectorBackendError(
            f"detector.device is {device}, but this machine has {count} CUDA device(s) "
            f"(cuda:0 … cuda:{count - 1}); pick one of them or use detector.device: cpu."
        )


def build_detector(config: DetectorConfig, calibration: Sequence[str] = ()) -> Detector:
    """The configured detector, weights verified (raises WeightsError / DetectorBackendError).

    ``calibration``: footage of the cameras it will serve (file paths), for INT8 calibration.
    """
    factory = DETECTOR_BACKENDS.get(config.backend)
    if factory is None:
        valid = ", ".join(DETECTOR_BACKENDS)
        raise DetectorBackendError(
            f"Unknown detector backend '{config.backend}'; valid choices: {valid}."
        )
    check_device(config.device)
    weights = verified_weights(config.weights, config.sha256, config.model)
    if config.weights is not None:
        log.info("detector weights %s, sha256 %s", weights, sha256_of(weights))
    return factory(config, weights, calibration)


def weights_identity(config: DetectorConfig) -> dict[str, str]:
    """Which model a detector config runs: ``model`` (packaged name or the file's name),
    ``weights`` (path) and ``sha256`` (of the file, checked), for reports and logs."""
    weights = verified_weights(config.weights, config.sha256, config.model)
    name = config.model if config.weights is None else f"operator:{weights.name}"
    return {"model": name, "weights": str(weights), "sha256": sha256_of(weights)}


def build_camera_detector(
    config: EdgeConfig,
    calibration: Sequence[str] = (),
    cameras: Mapping[str, Camera | None] | None = None,
) -> Detector:
    """The detector of a node or replay serving ``cameras`` (id → site camera, or None when
    the footage has no site): the plain configured detector when no camera has settings of its
    own (``config.cameras``), else a :class:`edge.tiling.PerCameraDetector` with each camera's
    plan (input size, confidence, ROI, tiles), one model per input size, built on first use."""
    from edge.tiling import PerCameraDetector, plan_camera

    cameras = dict(cameras or {})
    own = {cid: s for cid, s in config.cameras.items() if cid in cameras or not cameras}
    default = plan_camera(None, config.detector)
    plans = {cid: plan_camera(s, config.detector, cameras.get(cid)) for cid, s in own.items()}
    if config.detector.auto_image_size:
        auto = CameraDetectionConfig(image_size="auto")
        for cid, camera in cameras.items():
            if cid in plans or camera is None:
                continue
            plan = plan_camera(auto, config.detector, camera)
            if plan.image_size > default.image_size:  # auto never shrinks the configured input
                plans[cid] = plan
    if not plans:
        return build_detector(config.detector, calibration)
    for cid, plan in plans.items():
        log.info("camera %s: detection %s", cid, plan.describe())
    lowest = min([default.confidence, *(p.confidence for p in plans.values())])

    def detector_for(image_size: int) -> Detector:
        settings = config.detector.model_copy(
            update={"image_size": image_size, "confidence": lowest}
        )
        return build_detector(settings, calibration)

    return PerCameraDetector(default, plans, detector_for)
