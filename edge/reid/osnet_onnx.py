"""OSNet person Re-ID from an ONNX file, on ONNX Runtime (the onnxruntime adapter; the faster
here) or OpenVINO.

Expects a model with one input [B, 3, 256, 128] (RGB, ImageNet-normalised) and one output
[B, D]; the batch dimension may be dynamic or fixed (a fixed batch of 1 is fed crop by crop).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge.reid import imagenet_batch, l2_normalise


class OsnetOnnxEmbedder:
    """``weights``: path of the .onnx file; ``model_name``: default is the file's stem."""

    def __init__(
        self,
        weights: str,
        model_name: str | None = None,
        threads: int = 0,
        runtime: str = "onnxruntime",
    ) -> None:
        self.model_name = model_name or Path(weights).stem.lower()
        self._compiled = None
        if runtime == "openvino":
            from edge import openvino_runtime

            model = openvino_runtime.read_model(Path(weights))
            shape = model.inputs[0].get_partial_shape()
            self._height, self._width = shape[2].get_length(), shape[3].get_length()
            fixed = shape[0].is_static and shape[0].get_length() != -1
            self._fixed_batch = shape[0].get_length() if fixed else None
            if self._fixed_batch is None:
                model.reshape([-1, 3, self._height, self._width])
            self._compiled = openvino_runtime.compile_cpu(model, threads=threads)
            return
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            weights, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0]
        shape = self._input.shape
        self._height, self._width = int(shape[2]), int(shape[3])
        self._fixed_batch = shape[0] if isinstance(shape[0], int) else None

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, 0), np.float32)
        batch = imagenet_batch(crops, self._width, self._height)
        step = self._fixed_batch or len(batch)
        if self._compiled is not None:
            parts = [self._compiled(batch[i : i + step])[0] for i in range(0, len(batch), step)]
        else:
            parts = [
                self._session.run(None, {self._input.name: batch[i : i + step]})[0]
                for i in range(0, len(batch), step)
            ]
        return l2_normalise(np.concatenate(parts))
