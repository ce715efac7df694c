"""Frames where nobody can be found never stop the pipeline: blank frames, masked frames, frames
so small that every person is a few pixels, and a long run of empty frames, through every Re-ID
setting (real PETS09 footage, the real detector and tracker)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from edge_footage import OSNET_ONNX, PETS_VIDEO, needs_pets

from edge.config import DetectorConfig, EdgeConfig, ReidConfig
from edge.pipeline import CameraResult
from edge.replay import replay
from edge.sources import FileSource

FRAMES = 48
BLANK = range(8, 20)  # a long run of black frames (a camera at night)
MASKED = range(20, 26)  # the people painted over (a privacy mask, a lens cap)
TINY = range(26, 30)  # the frame shrunk to 48x36: every person is a few pixels


def _clip(folder: Path) -> Path:
    """PETS09 frames with blank, masked and tiny frames in the middle, as an img1/ folder."""
    images = folder / "img1"
    images.mkdir(parents=True)
    for frame in FileSource(str(PETS_VIDEO), "pets", max_frames=FRAMES):
        image = frame.image
        if frame.index in BLANK:
            image = np.zeros_like(image)
        elif frame.index in MASKED:
            image = np.full_like(image, 127)
        elif frame.index in TINY:
            image = cv2.resize(image, (48, 36), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(images / f"{frame.index + 1:06d}.jpg"), image)
    return folder


REID_SETTINGS = [
    pytest.param(ReidConfig(), id="default-mobilenet-parts"),
    pytest.param(ReidConfig(runtime="native"), id="mobilenet-parts-torch"),
    pytest.param(ReidConfig(backend="mobilenet_hist"), id="mobilenet-on-demand"),
    pytest.param(ReidConfig(backend="mobilenet_hist", refresh_s=0), id="mobilenet-every-frame"),
    pytest.param(ReidConfig(backend="mobilenet_hist", runtime="native"), id="mobilenet-torch"),
    pytest.param(ReidConfig(backend="none"), id="no-reid"),
    pytest.param(
        ReidConfig(backend="osnet_onnx", weights=OSNET_ONNX.resolve()),
        id="osnet",
        marks=pytest.mark.skipif(not OSNET_ONNX.exists(), reason="OSNet model not present"),
    ),
]


@needs_pets
@pytest.mark.parametrize("reid", REID_SETTINGS)
def test_empty_masked_and_tiny_frames_run_through(tmp_path: Path, reid: ReidConfig) -> None:
    clip = _clip(tmp_path / "clip")
    config = EdgeConfig(
        detector=DetectorConfig(precision="fp32", image_size=320, cache_dir=tmp_path / "cache"),
        reid=reid,
    )
    results: list[CameraResult] = []
    summary = replay(str(clip), "pets", config, fps=7.0, on_result=[results.append],
                     progress=False)  # fmt: skip
    assert summary.frames == FRAMES == len(results)
    assert [r.frame.index for r in results] == list(range(FRAMES))
    assert all(r.error is None for r in results), [r.error for r in results if r.error]
    people = [len(r.tracks) for r in results]
    assert min(people[2:8]) >= 3  # people tracked before the dark spell
    assert all(people[i] == 0 for i in [*BLANK, *MASKED])  # nobody invented in empty frames
    assert max(people[32:]) >= 3  # and found again afterwards
