"""The batched engine's per-frame host work: letterbox and upload, one call per frame or batched.

    python bench/edge/engine_step.py [--device cpu|cuda] [--frames 16] [--height 1080]
        [--width 1920] [--image-size 640] [--repeats 5]

Times, on ``--frames`` random BGR frames of one shape (1080p by default; resize cost does not
depend on the picture), the two host-side steps of ``edge.engine.batched`` before the network:

- ``letterbox_batch`` with ``batched=False`` (one ``F.interpolate`` and one write per frame) and
  ``batched=True`` (the frames stacked, one ``F.interpolate`` and one write for all), checking
  that both give the same batch;
- the upload: one copy per frame (``upload`` as it runs on the CPU: ``torch.from_numpy`` and a
  flip per frame; on CUDA one pageable ``.to(device)`` each) against ``staged_upload`` (one host
  buffer, one copy; pinned and non-blocking on CUDA).

Prints the median milliseconds of ``--repeats`` runs after one warm-up, all measured in this
run. On CUDA each timing ends with ``torch.cuda.synchronize()``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edge.engine.batched import (  # noqa: E402
    input_shape,
    letterbox_batch,
    letterbox_plan,
    pick_device,
    staged_upload,
    upload,
)


def timed(run: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Median milliseconds of ``repeats`` calls after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def upload_one_by_one(arrays: list[np.ndarray], device: torch.device) -> list[torch.Tensor]:
    """The upload before staging: one copy (CUDA) or view (CPU) per frame, flipped one by one."""
    return [torch.from_numpy(a).to(device).permute(2, 0, 1).flip(0) for a in arrays]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--image-size", type=int, default=640)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = pick_device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    generator = np.random.default_rng(0)
    shape = (args.height, args.width)
    arrays = [generator.integers(0, 256, (*shape, 3), dtype=np.uint8) for _ in range(args.frames)]
    frames = upload(arrays, device)
    plan = letterbox_plan(shape, input_shape([shape], args.image_size, 32), args.image_size)
    plans = [plan] * len(frames)
    print(
        f"{args.frames} frames {args.height}x{args.width} -> {plan.resized_hw}, device {device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    with torch.inference_mode():
        one = letterbox_batch(frames, plans, dtype, batched=False)
        together = letterbox_batch(frames, plans, dtype, batched=True)
        same = torch.equal(one, together)
        per_frame = timed(
            lambda: letterbox_batch(frames, plans, dtype, batched=False), device, args.repeats
        )
        batched = timed(
            lambda: letterbox_batch(frames, plans, dtype, batched=True), device, args.repeats
        )
        print(f"letterbox_batch per frame {per_frame:8.1f} ms")
        print(f"letterbox_batch batched   {batched:8.1f} ms   (same batch: {same})")
        pin = device.type == "cuda"
        flags = [False] * len(arrays)
        direct = timed(lambda: upload_one_by_one(arrays, device), device, args.repeats)
        staged = timed(lambda: staged_upload(arrays, flags, device, pin=pin), device, args.repeats)
        print(f"upload one copy per frame {direct:8.1f} ms")
        print(f"upload staged{' (pinned)' if pin else ''}        {staged:8.1f} ms")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
