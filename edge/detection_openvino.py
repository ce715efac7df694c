"""YOLOv8 person detection straight on the OpenVINO runtime (FP32, FP16 or INT8), and its INT8
post-training quantization (through :mod:`edge.openvino_runtime`, the OpenVINO adapter).

Why not ultralytics' ``predict`` on the exported model: on a 2-core CPU its pre- and
post-processing (torch tensors, torchvision NMS, per-call set-up) cost about as much as the
network itself. Here letterboxing is one ``cv2.resize`` into a reused buffer, the BGR→RGB swap and
the 1/255 scaling run inside the compiled model (OpenVINO pre-processing), and NMS is OpenCV's.
Frames of several cameras go through one inference request (batch padded to the largest frame).

Boxes equal ultralytics' within rounding: same letterbox (long side to ``image_size``, padded to
a multiple of 32), person score = class 0 of the 80 COCO scores, class-agnostic NMS.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge import openvino_runtime as runtime
from edge.detection import Detections

log = logging.getLogger(__name__)

STRIDE = 32
PAD_VALUE = 114
MAX_DETECTIONS = 300


def letterbox_shape(height: int, width: int, image_size: int) -> tuple[int, int, float]:
    """(padded height, padded width, scale) of a frame letterboxed to ``image_size``."""
    scale = min(image_size / height, image_size / width)
    h = math.ceil(round(height * scale) / STRIDE) * STRIDE
    w = math.ceil(round(width * scale) / STRIDE) * STRIDE
    return h, w, scale


def letterbox_into(out: np.ndarray, image: np.ndarray, scale: float) -> tuple[float, float]:
    """Resize ``image`` by ``scale`` into the centre of ``out`` (filled grey); returns the
    (x, y) offset of the image inside ``out``."""
    h, w = image.shape[:2]
    nh, nw = round(h * scale), round(w * scale)
    top, left = (out.shape[0] - nh) // 2, (out.shape[1] - nw) // 2
    out[:] = PAD_VALUE
    if (nh, nw) == (h, w):
        out[top : top + nh, left : left + nw] = image
    else:
        out[top : top + nh, left : left + nw] = cv2.resize(
            image, (nw, nh), interpolation=cv2.INTER_LINEAR
        )
    return float(left), float(top)


class OpenVinoPersonDetector:
    """``model_xml``: an OpenVINO IR of a YOLOv8 detector (dynamic batch and size);
    ``precision``: ``fp32``, ``fp16`` (inference precision hint) or ``int8`` (a quantized IR);
    ``threads``: inference threads (0: OpenVINO's choice, all cores)."""

    def __init__(
        self,
        model_xml: Path,
        image_size: int = 640,
        confidence: float = 0.25,
        iou: float = 0.7,
        precision: str = "fp32",
        threads: int = 0,
    ) -> None:
        self.image_size = image_size
        self.confidence = confidence
        self.iou = iou
        self.precision = precision
        self.threads = threads
        self._model = runtime.bgr_u8_input(runtime.read_model(model_xml))
        self._compiled: dict[tuple[int, int, int], Any] = {}
        self._buffers: dict[tuple[int, int, int], np.ndarray] = {}

    def _request(self, shape: tuple[int, int, int]) -> Any:
        """An inference request for a (batch, height, width) input: a static shape for one
        frame (fastest), one model with a dynamic batch for several cameras (compiled once per
        frame size, however many cameras a step brings)."""
        key = shape if shape[0] == 1 else (-1, shape[1], shape[2])
        request = self._compiled.get(key)
        if request is None:
            compiled = runtime.compile_cpu(
                self._model, [key[0], key[1], key[2], 3], self.precision, self.threads
            )
            request = compiled.create_infer_request()
            self._compiled[key] = request
        return request

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """People in a batch of BGR images (any sizes), one inference request."""
        if not images:
            return []
        shapes = [letterbox_shape(img.shape[0], img.shape[1], self.image_size) for img in images]
        height = max(s[0] for s in shapes)
        width = max(s[1] for s in shapes)
        key = (len(images), height, width)
        batch = self._buffers.get(key)
        if batch is None:
            batch = self._buffers[key] = np.empty((len(images), height, width, 3), np.uint8)
        offsets = [letterbox_into(batch[i], img, shapes[i][2]) for i, img in enumerate(images)]
        request = self._request(key)
        output = request.infer({0: batch})[request.model_outputs[0]]
        return [
            self._boxes(output[i], offsets[i], shapes[i][2], img.shape[:2])
            for i, img in enumerate(images)
        ]

    def _boxes(
        self,
        raw: np.ndarray,
        offset: tuple[float, float],
        scale: float,
        size: tuple[int, ...],
    ) -> Detections:
        """Decode one image's (84, anchors) output: person boxes in frame pixels after NMS."""
        scores = raw[4]
        keep = np.flatnonzero(scores >= self.confidence)
        if keep.size == 0:
            return Detections()
        classes = raw[4:, keep]
        keep = keep[classes.argmax(axis=0) == 0]  # a box counts as a person as ultralytics does
        if keep.size == 0:
            return Detections()
        cx, cy, w, h = raw[0, keep], raw[1, keep], raw[2, keep], raw[3, keep]
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        conf = scores[keep]
        chosen = cv2.dnn.NMSBoxes(
            np.column_stack([xyxy[:, :2], w, h]).tolist(),
            conf.tolist(),
            self.confidence,
            self.iou,
            top_k=MAX_DETECTIONS,
        )
        index = np.asarray(chosen, int).reshape(-1)
        xyxy = xyxy[index]
        xyxy[:, [0, 2]] -= offset[0]
        xyxy[:, [1, 3]] -= offset[1]
        xyxy /= scale
        xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, size[1])
        xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, size[0])
        return Detections(xyxy=xyxy.astype(np.float32), confidence=conf[index].astype(np.float32))


def quantize_int8(
    fp32_xml: Path, target_xml: Path, frames: Iterable[np.ndarray], image_size: int
) -> Path:
    """Post-training INT8 quantization of a YOLOv8 IR, calibrated on ``frames`` (BGR images from
    the site's own cameras); the detection head stays in floating point, as Ultralytics does.
    Writes ``target_xml`` (+ .bin) and returns it."""
    samples = []
    for image in frames:
        h, w, scale = letterbox_shape(image.shape[0], image.shape[1], image_size)
        padded = np.empty((h, w, 3), np.uint8)
        letterbox_into(padded, image, scale)
        samples.append(
            np.ascontiguousarray(padded[..., ::-1].transpose(2, 0, 1)[None], np.float32) / 255.0
        )
    if not samples:
        raise ValueError("no calibration frames")
    ops = runtime.operations(fp32_xml)
    sigmoids = [name for kind, name in ops if kind == "Sigmoid"]
    head = sigmoids[-1].split("/", 1)[0] if sigmoids else None
    ignored = [
        name
        for kind, name in ops
        if kind == "Sigmoid" or (head is not None and name.startswith((f"{head}/", f"{head}.dfl")))
    ]
    return runtime.quantize_int8(fp32_xml, target_xml, samples, ignored)
