"""The batched device engine against the current backends, on CPU torch and real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from edge_footage import CAMPUS_VIDEO, PETS_VIDEO, needs_campus, needs_pets

from edge.detection import YoloPersonDetector, box_iou
from edge.engine.batched import (
    BatchedPersonDetector,
    DeviceEmbedder,
    input_shape,
    letterbox_plan,
    mobilenet_reid_network,
    to_frame_pixels,
    upload,
)
from edge.reid import crop, imagenet_batch
from edge.weights import verified_weights


def _frames(path: object, count: int, step: int = 40) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    for i in range(count * step):
        ok, image = capture.read()
        if not ok:
            break
        if i % step == 0:
            frames.append(image)
    capture.release()
    return frames


@pytest.fixture(scope="module")
def weights():  # type: ignore[no-untyped-def]
    return verified_weights()


def _same(reference: list, engine: list) -> None:  # type: ignore[type-arg]
    for ref, got in zip(reference, engine, strict=True):
        assert len(ref) == len(got) > 0
        iou = box_iou(ref.xyxy, got.xyxy)
        assert iou.max(axis=1).min() > 0.98  # every box found again, nearly the same pixels
        order = iou.argmax(axis=1)
        assert np.abs(ref.confidence - got.confidence[order]).max() < 0.01


@needs_pets
@needs_campus
def test_engine_finds_what_the_ultralytics_detector_finds(weights) -> None:  # type: ignore[no-untyped-def]
    pets = _frames(PETS_VIDEO, 2)
    campus = _frames(CAMPUS_VIDEO, 1)
    reference = YoloPersonDetector(weights)
    engine = BatchedPersonDetector.from_weights(weights)
    assert engine.dtype == torch.float32  # FP32 on CPU
    _same(reference.detect(pets), engine.detect(pets))  # one shape: rectangular input
    _same(reference.detect(pets + campus), engine.detect(pets + campus))  # mixed: square


def test_letterbox_arithmetic_maps_boxes_back_to_each_camera() -> None:
    # 1080p at 640: resized to 640x360, padded to 384 (stride 32): 12 px grey above and below.
    assert input_shape([(1080, 1920)], 640, 32) == (384, 640)
    assert input_shape([(1080, 1920), (576, 768)], 640, 32) == (640, 640)
    plan = letterbox_plan((1080, 1920), (384, 640), 640)
    assert plan.resized_hw == (360, 640) and plan.pad_xy == (0, 12)
    box = torch.tensor([[64.0, 12.0 + 36.0, 128.0, 12.0 + 360.0]])
    back = to_frame_pixels(box, plan, (1080, 1920))
    assert torch.allclose(back, torch.tensor([[192.0, 108.0, 384.0, 1080.0]]), atol=1e-3)
    far = torch.tensor([[-5.0, -5.0, 700.0, 400.0]])  # beyond the picture: clipped
    assert torch.allclose(
        to_frame_pixels(far, plan, (1080, 1920)), torch.tensor([[0.0, 0.0, 1920.0, 1080.0]])
    )


@needs_pets
def test_device_crops_embed_like_the_host_crops() -> None:
    network = mobilenet_reid_network()
    embedder = DeviceEmbedder(network, width=224, height=224, model_name="mobilenetv2")
    frames = _frames(PETS_VIDEO, 2)
    boxes = [
        np.array([[100.0, 150.0, 160.0, 330.0], [400.0, 120.0, 450.0, 280.0]], np.float32),
        np.array([[300.0, 200.0, 370.0, 420.0]], np.float32),
    ]
    on_device = upload(frames, embedder.device)
    got = embedder.embed_boxes(on_device, [torch.from_numpy(b) for b in boxes])
    assert [g.shape for g in got] == [(2, 1280), (1, 1280)]
    crops = [crop(f, b) for f, bs in zip(frames, boxes, strict=True) for b in bs]
    with torch.inference_mode():
        host = network(torch.from_numpy(imagenet_batch(crops, 224, 224))).numpy()
    host /= np.linalg.norm(host, axis=1, keepdims=True)
    cosine = (np.concatenate(got) * host).sum(axis=1)
    assert cosine.min() > 0.98
    assert embedder.embed_boxes(on_device, [torch.zeros((0, 4)), torch.zeros((0, 4))])[0].size == 0


def test_cuda_batches_run_at_a_few_sizes_and_padding_leaves_results_alone() -> None:
    from edge.engine.batched import bucket, padded

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert [bucket(n, cuda) for n in (1, 7, 8, 9, 19, 190, 256)] == [8, 8, 8, 16, 32, 256, 256]
    assert {bucket(n, cuda) for n in range(1, 1025)} == {8, 16, 32, 64, 128, 256, 512, 1024}
    assert [bucket(n, cpu) for n in (1, 19, 190)] == [1, 19, 190]  # no padding on the CPU
    network = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    x = torch.rand(5, 3, 16, 16)
    with torch.inference_mode():
        assert torch.allclose(network(padded(x, bucket(5, cuda)))[:5], network(x), atol=1e-6)
    assert padded(x, 8).shape == (8, 3, 16, 16) and padded(x, 8)[5:].abs().sum() == 0
