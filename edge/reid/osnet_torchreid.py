"""OSNet person Re-ID built by torchreid (the torchreid adapter); weights from a local file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge.reid import imagenet_batch, l2_normalise


class OsnetTorchreidEmbedder:
    """``weights``: a torchreid state dict (.pth/.pth.tar); ``architecture``: e.g. osnet_x0_25."""

    def __init__(
        self, weights: str, architecture: str = "osnet_x0_25", model_name: str | None = None
    ) -> None:
        import torch
        from torchreid.reid.models import build_model

        model = build_model(architecture, num_classes=1, pretrained=False)
        state = torch.load(weights, map_location="cpu", weights_only=False)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        state = {k.removeprefix("module."): v for k, v in state.items()}
        model_state = model.state_dict()
        usable = {
            k: v for k, v in state.items() if k in model_state and v.shape == model_state[k].shape
        }
        model.load_state_dict(usable, strict=False)
        self._model = model.eval()
        self._torch = torch
        self.model_name = model_name or Path(weights).name.split(".")[0].lower()

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, 0), np.float32)
        with self._torch.inference_mode():
            features = self._model(self._torch.from_numpy(imagenet_batch(crops, 128, 256)))
        return l2_normalise(features.numpy())
