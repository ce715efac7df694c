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
    Letterbox,
    input_shape,
    letterbox_batch,
    letterbox_plan,
    mobilenet_reid_network,
    staged_upload,
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


def _letterbox_one_by_one(
    frames: list[torch.Tensor], plans: list[Letterbox], dtype: torch.dtype
) -> torch.Tensor:
    """The engine's letterbox before it was batched: one resize and one write per frame."""
    h, w = plans[0].input_hw
    batch = torch.full((len(frames), 3, h, w), 114 / 255.0, dtype=dtype)
    for i, (frame, plan) in enumerate(zip(frames, plans, strict=True)):
        rh, rw = plan.resized_hw
        x = frame.unsqueeze(0)
        if (rh, rw) != tuple(frame.shape[1:]):
            x = torch.nn.functional.interpolate(
                x, size=(rh, rw), mode="bilinear", align_corners=False
            )
        px, py = plan.pad_xy
        batch[i, :, py : py + rh, px : px + rw] = x[0].to(dtype) / 255.0
    return batch


@pytest.mark.parametrize("pixels", [torch.uint8, torch.float32])  # CPU resize; CUDA's float
def test_letterbox_in_one_call_per_shape_equals_one_call_per_frame(pixels) -> None:  # type: ignore[no-untyped-def]
    generator = np.random.default_rng(7)

    def frame(h: int, w: int) -> torch.Tensor:  # a decoded BGR picture flipped to RGB
        bgr = generator.integers(0, 256, (h, w, 3), dtype=np.uint8)
        return torch.from_numpy(bgr).permute(2, 0, 1).flip(0).to(pixels)

    same = [frame(108, 192) for _ in range(5)]
    plans = [letterbox_plan((108, 192), input_shape([(108, 192)], 64, 32), 64)] * 5
    got = letterbox_batch(same, plans, torch.float32, batched=True)
    assert torch.equal(got, _letterbox_one_by_one(same, plans, torch.float32))
    # The order of the cameras is kept: reversed frames give the reversed batch.
    reverse = letterbox_batch(same[::-1], plans, torch.float32, batched=True)
    assert torch.equal(reverse, got.flip(0)) and not torch.equal(reverse, got)

    # Mixed shapes, interleaved: (90, 160) and (45, 80) land on the same pixels (36 x 64) but
    # are not one shape; (36, 64) needs no resize; (120, 90) is upright.
    shapes = [(90, 160), (45, 80), (120, 90), (90, 160), (36, 64), (45, 80), (90, 160)]
    mixed = [frame(h, w) for h, w in shapes]
    square = input_shape(shapes, 64, 32)
    plans = [letterbox_plan(s, square, 64) for s in shapes]
    assert plans[0].resized_hw == plans[1].resized_hw == (36, 64)
    assert plans[0].pad_xy == plans[1].pad_xy
    reference = _letterbox_one_by_one(mixed, plans, torch.float32)
    assert torch.equal(letterbox_batch(mixed, plans, torch.float32, batched=True), reference)
    assert torch.equal(letterbox_batch(mixed, plans, torch.float32, batched=False), reference)
    assert torch.equal(letterbox_batch(mixed, plans, torch.float32), reference)  # CPU default


def test_frames_reach_the_device_as_rgb_whichever_way_they_are_copied() -> None:
    generator = np.random.default_rng(3)
    shapes = [(48, 64), (30, 40), (48, 64), (48, 64), (30, 40)]
    arrays = [generator.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in shapes]
    rgb = [False, False, True, False, False]  # the third array is RGB already
    want = [
        a.transpose(2, 0, 1) if r else a[..., ::-1].transpose(2, 0, 1)
        for a, r in zip(arrays, rgb, strict=True)
    ]
    cpu = torch.device("cpu")
    for got in (
        upload(arrays, cpu, rgb),  # in place, one by one
        staged_upload(arrays, rgb, cpu, pin=False),  # CUDA's way: one buffer, one copy
    ):
        assert [g.dtype for g in got] == [torch.uint8] * 5
        assert all(np.array_equal(g.numpy(), w) for g, w in zip(got, want, strict=True))
    on_device = torch.from_numpy(arrays[2])  # a hardware-decoded frame: already RGB, kept
    assert torch.equal(upload([on_device], cpu, [True])[0], torch.from_numpy(want[2]))
