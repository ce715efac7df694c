"""Re-ID embedders: same person closer than different people on real PETS crops; registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from edge_footage import OSNET_ONNX, PETS_GT, PETS_VIDEO, needs_osnet, needs_pets

from edge.config import ReidConfig
from edge.reid import Embedder, ReidError, build_embedder, crop, embed_detections
from edge.sources import read_frame

# two GT people, each at two frames far apart (1-based GT frames)
PEOPLE = {9: (50, 450), 13: (60, 380)}


def _crops() -> tuple[list[np.ndarray], list[int]]:
    gt = np.loadtxt(PETS_GT, delimiter=",")
    crops, labels = [], []
    for pid, frames in PEOPLE.items():
        for f in frames:
            row = gt[(gt[:, 0] == f) & (gt[:, 1] == pid)][0]
            x, y, w, h = row[2:6]
            image = read_frame(str(PETS_VIDEO), "pets", int(f) - 1)
            crops.append(crop(image, np.array([x, y, x + w, y + h])))
            labels.append(pid)
    return crops, labels


def _check_separates_people(embedder: Embedder) -> None:
    crops, labels = _crops()
    e = embedder.embed(crops)
    assert e.dtype == np.float32 and e.shape[0] == 4 and 64 <= e.shape[1] <= 2048
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
    sim = e @ e.T
    same = [sim[0, 1], sim[2, 3]]
    different = [sim[0, 2], sim[0, 3], sim[1, 2], sim[1, 3]]
    assert min(same) > max(different), (same, different)
    assert labels == [9, 9, 13, 13]


@needs_pets
@needs_osnet
def test_osnet_onnx_tells_two_pets_people_apart() -> None:
    embedder = build_embedder(ReidConfig(backend="osnet_onnx", weights=OSNET_ONNX.resolve()))
    assert embedder is not None and embedder.model_name == "osnet_x0_25_msmt17"
    _check_separates_people(embedder)


@needs_pets
def test_the_offline_backend_works_with_nothing_downloaded() -> None:
    embedder = build_embedder(ReidConfig(backend="mobilenet_hist"))
    assert embedder is not None and embedder.model_name == "mobilenetv2_imagenet+hsv3"
    _check_separates_people(embedder)


@needs_pets
def test_the_offline_part_based_backend_tells_people_apart_on_both_runtimes() -> None:
    crops, _ = _crops()
    openvino = build_embedder(ReidConfig(backend="mobilenet_parts"))
    native = build_embedder(ReidConfig(backend="mobilenet_parts", runtime="native"))
    assert openvino is not None and openvino.model_name == "mobilenetv2_parts+hsv3c"
    assert getattr(openvino, "runtime", None) == "openvino"
    assert getattr(native, "runtime", None) == "torch"
    _check_separates_people(openvino)
    a, b = openvino.embed(crops), native.embed(crops)  # type: ignore[union-attr]
    assert a.shape == b.shape and float(np.abs(a - b).max()) < 0.02
    assert openvino.embed([]).shape[0] == 0
    tiny = crops[0][:5, :5]  # a box too small to carry appearance still gives a unit row
    assert np.isclose(np.linalg.norm(openvino.embed([tiny])[0]), 1.0, atol=1e-4)


@needs_osnet
def test_crops_of_several_cameras_are_embedded_in_batches() -> None:
    from edge.detection import Detections

    embedder = build_embedder(ReidConfig(backend="osnet_onnx", weights=OSNET_ONNX.resolve()))
    assert embedder is not None
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (120, 160, 3), np.uint8) for _ in range(2)]
    boxes = [np.array([[0, 0, 40, 100], [50, 10, 90, 110], [100, 0, 150, 90]], np.float32)] * 2
    dets = [Detections(b, np.ones(3, np.float32)) for b in boxes]
    # a third camera with nobody in view shares the batch
    out = embed_detections(embedder, [*images, images[0]], [*dets, Detections()], batch_size=4)
    shapes = [d.embedding.shape for d in out if d.embedding is not None]
    assert shapes == [(3, 512), (3, 512), (0, 512)]
    alone = embedder.embed([crop(images[1], boxes[1][2])])
    assert out[1].embedding is not None
    assert np.allclose(out[1].embedding[2], alone[0], atol=1e-4)


def test_backend_errors_are_one_sentence(tmp_path: Path) -> None:
    assert build_embedder(ReidConfig(backend="none")) is None
    with pytest.raises(ReidError, match=r"needs a weights file; set reid\.weights"):
        build_embedder(ReidConfig(backend="osnet_onnx"))
    with pytest.raises(ReidError, match=r"does not exist; fix reid\.weights"):
        build_embedder(ReidConfig(backend="osnet_onnx", weights=tmp_path / "nope.onnx"))
    bogus = ReidConfig.model_construct(backend="resnet_magic")  # type: ignore[arg-type]
    with pytest.raises(ReidError, match="valid choices: osnet_onnx, osnet_torchreid"):
        build_embedder(bogus)


@needs_pets
def test_mobilenet_runs_on_openvino_by_default_with_the_pytorch_features() -> None:
    crops, _ = _crops()
    default = build_embedder(ReidConfig())
    native = build_embedder(ReidConfig(runtime="native"))
    assert getattr(default, "runtime", None) == "openvino"  # auto: the faster runtime here
    assert getattr(native, "runtime", None) == "torch"
    a, b = default.embed(crops), native.embed(crops)  # type: ignore[union-attr]
    assert a.shape == b.shape and float(np.abs(a - b).max()) < 0.02


def test_the_stitcher_knows_the_scale_of_every_offline_embedder() -> None:
    """Cloud stitching puts appearance on one scale with each embedder's different-person mean
    (measured by bench/reid/bench_reid_separation.py); an unlisted name would be taken as is."""
    from cloud.settings import StitchSettings
    from edge.reid.mobilenet_hist import MODEL_NAME as HIST
    from edge.reid.mobilenet_parts import MODEL_NAME as PARTS

    baselines = StitchSettings().appearance_baselines
    assert baselines[PARTS] == pytest.approx(0.567) and baselines[HIST] == pytest.approx(0.775)
