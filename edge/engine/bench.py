"""``footfall edge bench``: how many 1080p cameras one node carries at 15 fps, end to end.

One run measures, on the chosen device (``cuda`` or ``cpu``):

1. **A 1080p H.264 clip** made once from real footage (PETS09-S2L1 upscaled to 1920x1080, with
   the ``ffmpeg`` program where present, else PyAV's libx264, else OpenCV's MPEG-4 as a last
   resort; the codec is recorded) and cached under ``.run/edge-bench-clips/``.
2. **The detector alone** (the batched engine: upload, letterbox, network, NMS, boxes back) on
   decoded 1080p frames at each batch size; images/s, and the best.
3. **End to end at N streams**: N decode workers replaying the clip at 15 fps each (looping), the
   engine detecting all cameras' newest frames per step and embedding every confident box's
   crop on the device, tracking and messages in worker processes publishing to an in-memory
   counter; frames published per second per stream, capture-to-publish latency p50/p99,
   frames dropped by decoders and skipped by busy workers, the node's CPU use (its own process
   tree's CPU seconds over the window, as a share of the machine's cores) and the GPU's
   utilisation (NVML, sampled).
4. **A search over N**: a count is *held* when every stream gets at least 95 % of 15 fps and p99
   latency is under 1 s; the count doubles while held, then bisects between the last held and
   the first not held. The answer is ``max_streams_1080p_15fps`` (0 when one stream is not held).

Every figure goes into one JSON file (``--json``; by default
``bench/results/edge_bench_<device>.json``).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import EdgeConfig
from edge.engine.batched import (
    BatchedPersonDetector,
    DeviceEmbedder,
    mobilenet_reid_network,
    upload,
)
from edge.engine.decode import Decoder, DecodeWorker
from edge.engine.workers import Published, TrackingWorkers, TrackRequest
from edge.pipeline import Identity
from footfall.errors import UserError

log = logging.getLogger(__name__)

TARGET_FPS = 15.0
HELD_SHARE = 0.95
MAX_P99_S = 1.0
WIDTH, HEIGHT = 1920, 1080
DEFAULT_SOURCE = Path("../shared/data/pets2009_s2l1/video/View_001_vtest.avi")
CACHE_DIR = Path(".run/edge-bench-clips")
RESULTS_DIR = Path("bench/results")


class BenchError(UserError, ValueError):
    """The benchmark cannot run as asked; ``str()`` names the problem and the fix."""


def _encode_ffmpeg(source: Path, target: Path, frames: int) -> None:
    subprocess.run(
        [
            *("ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-frames:v", str(frames)),
            *("-vf", f"scale={WIDTH}:{HEIGHT}", "-r", str(int(TARGET_FPS)), "-c:v", "libx264"),
            *("-preset", "veryfast", "-pix_fmt", "yuv420p", str(target)),
        ],
        check=True,
    )


def _source_frames(source: Path, frames: int) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(source))
    images: list[np.ndarray] = []
    while len(images) < frames:
        ok, image = capture.read()
        if not ok:
            break
        images.append(cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR))
    capture.release()
    return images


def _encode_pyav(source: Path, target: Path, frames: int) -> None:
    import av

    with av.open(str(target), "w") as container:
        stream = container.add_stream("libx264", rate=int(TARGET_FPS))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast"}
        for image in _source_frames(source, frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _encode_opencv(source: Path, target: Path, frames: int) -> None:
    import cv2

    writer = cv2.VideoWriter(
        str(target), cv2.VideoWriter.fourcc(*"mp4v"), TARGET_FPS, (WIDTH, HEIGHT)
    )
    for image in _source_frames(source, frames):
        writer.write(image)
    writer.release()


def _have_pyav() -> bool:
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


def synthetic_clip(source: Path, frames: int, cache_dir: Path = CACHE_DIR) -> tuple[Path, str]:
    """The cached 1080p clip of ``frames`` frames of ``source``, and its codec's name.

    A clip already cached is used even where the footage itself is absent (the GPU machine
    gets the clip, not the footage)."""
    for codec in ("h264", "mpeg4"):
        cached = cache_dir / f"{source.stem}-{WIDTH}x{HEIGHT}-{frames}f-{codec}.mp4"
        if cached.exists():
            return cached, codec
    if not source.is_file():
        raise BenchError(
            f"The benchmark's footage {source} is not a readable file; give --source VIDEO "
            "(real footage, re-encoded to 1080p once)."
        )
    encoders: list[tuple[str, Callable[[Path, Path, int], None]]] = []
    if shutil.which("ffmpeg"):
        encoders.append(("h264", _encode_ffmpeg))
    if _have_pyav():
        encoders.append(("h264", _encode_pyav))
    encoders.append(("mpeg4", _encode_opencv))
    codec, encode = encoders[0]
    target = cache_dir / f"{source.stem}-{WIDTH}x{HEIGHT}-{frames}f-{codec}.mp4"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial.mp4")
        log.info("encoding %d frames of %s to %s (%s, once)", frames, source, target, codec)
        encode(source, partial, frames)
        partial.rename(target)
    return target, codec


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return str(torch.cuda.get_device_name(torch.device(device)))
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores, CPU)"


def detector_throughput(
    detector: BatchedPersonDetector, images: list[np.ndarray], batches: list[int], seconds: float
) -> dict[str, Any]:
    """Images/s of the engine's whole detect (upload to boxes on the host) per batch size."""
    import torch

    rates: dict[str, float] = {}
    for batch in batches:
        frames = [images[i % len(images)] for i in range(batch)]
        detector.detect(frames)  # warm-up (CUDA kernels, allocator)
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds or done == 0:
            detector.detect(frames)
            done += batch
        if detector.device.type == "cuda":
            torch.cuda.synchronize()
        rates[str(batch)] = round(done / (time.perf_counter() - started), 2)
    best = max(rates, key=lambda b: rates[b])
    return {"images_per_s_by_batch": rates, "best_batch": int(best), "images_per_s": rates[best]}


class _Utilisation:
    """CPU share of the node's process tree and mean GPU utilisation over a window."""

    def __init__(self, device: str) -> None:
        import psutil

        self._me = psutil.Process()
        self._gpu: list[float] = []
        self._stop = threading.Event()
        self._nvml: Any = None
        if device.startswith("cuda"):
            try:
                import pynvml

                pynvml.nvmlInit()
                index = int(device.split(":")[1]) if ":" in device else 0
                self._nvml = (pynvml, pynvml.nvmlDeviceGetHandleByIndex(index))
            except Exception as exc:
                log.info("GPU utilisation not measured (%s)", exc)

    def _cpu_seconds(self) -> float:
        total = 0.0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except Exception:
                continue
        return total

    def _sample_gpu(self) -> None:
        assert self._nvml is not None
        nvml, handle = self._nvml
        while not self._stop.wait(0.25):
            self._gpu.append(float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu))

    def start(self) -> None:
        self._cpu0, self._t0 = self._cpu_seconds(), time.perf_counter()
        if self._nvml is not None:
            threading.Thread(target=self._sample_gpu, daemon=True).start()

    def stop(self) -> dict[str, float | None]:
        self._stop.set()
        wall = time.perf_counter() - self._t0
        cpu = (self._cpu_seconds() - self._cpu0) / wall / (os.cpu_count() or 1) * 100
        gpu = round(float(np.mean(self._gpu)), 1) if self._gpu else None
        return {"cpu_percent_of_machine": round(cpu, 1), "gpu_percent": gpu}


@dataclass
class Node:
    """The engine's models, shared by every end-to-end run of one benchmark."""

    detector: BatchedPersonDetector
    embedder: DeviceEmbedder
    config: EdgeConfig
    decoder: Decoder
    workers: int


def end_to_end(node: Node, clip: Path, streams: int, duration_s: float) -> dict[str, Any]:
    """``streams`` paced cameras through detection, Re-ID, tracking and messages."""
    import torch

    warmup_s = min(3.0, duration_s / 3)
    cameras = {f"cam-{i:03d}": TARGET_FPS for i in range(streams)}
    identity = Identity("bench", "bench-node", "0123456789abcdef")
    tracking = TrackingWorkers(
        node.config,
        cameras,
        identity,
        processes=node.workers,
        queue_depth=4,
        embedding_model=node.embedder.model_name,
    )
    tracking.wait_ready()
    decoders = [
        DecodeWorker(c, str(clip), decoder=node.decoder, pace_fps=TARGET_FPS, loop=True).start()
        for c in cameras
    ]
    high = node.config.tracker.track_high_thresh
    published: list[Published] = []
    usage = _Utilisation(str(node.detector.device))
    steps = batch_total = crops = 0
    stage_s = {"detect": 0.0, "reid": 0.0, "hand_over": 0.0}  # engine seconds in the window
    started = time.perf_counter()
    window = (started + warmup_s, started + warmup_s + duration_s)
    measuring = False
    drops0 = skips0 = 0
    while time.perf_counter() < window[1]:
        if not measuring and time.perf_counter() >= window[0]:
            usage.start()
            measuring = True
            drops0 = sum(d.dropped for d in decoders)
            skips0 = sum(tracking.skipped.values())
        frames = [f for d in decoders if (f := d.take()) is not None]
        published.extend(tracking.results())
        if not frames:
            time.sleep(0.002)
            continue
        t0 = time.perf_counter()
        on_device = upload([f.image for f in frames], node.detector.device, [f.rgb for f in frames])
        detections, boxes = node.detector.detect_on_device(on_device)
        t1 = time.perf_counter()
        confident = [b[d.confidence >= high] for d, b in zip(detections, boxes, strict=True)]
        vectors = node.embedder.embed_boxes(on_device, confident)
        t2 = time.perf_counter()
        for frame, dets, vec in zip(frames, detections, vectors, strict=True):
            embedding = None
            if len(vec):
                embedding = np.zeros((len(dets), vec.shape[1]), np.float32)
                embedding[dets.confidence >= high] = vec
            height, width = (int(s) for s in frame.image.shape[:2])
            tracking.submit(
                TrackRequest(
                    frame.camera_id,
                    frame.index,
                    frame.captured,
                    frame.captured_at,
                    height,
                    width,
                    dets.xyxy,
                    dets.confidence,
                    embedding,
                )
            )
        if measuring:
            steps += 1
            batch_total += len(frames)
            stage_s["detect"] += t1 - t0
            stage_s["reid"] += t2 - t1
            stage_s["hand_over"] += time.perf_counter() - t2
            crops += sum(len(c) for c in confident)
    figures = usage.stop() if measuring else {}
    dropped = sum(d.dropped for d in decoders) - drops0
    skipped = sum(tracking.skipped.values()) - skips0
    for d in decoders:
        d.stop()
    published.extend(tracking.results(timeout_s=0.5))
    tracking.close(timeout_s=10)
    inside = [p for p in published if window[0] <= p.published <= window[1] and p.index >= 0]
    latency = np.array([p.published - p.captured for p in inside]) if inside else np.array([])
    per_camera = [sum(p.camera_id == c for p in inside) / duration_s for c in cameras]
    p50 = float(np.percentile(latency, 50)) if len(latency) else None
    p99 = float(np.percentile(latency, 99)) if len(latency) else None
    fps_min = float(np.min(per_camera))
    result: dict[str, Any] = {
        "streams": streams,
        "duration_s": duration_s,
        "frames_published": len(inside),
        "fps_total": round(len(inside) / duration_s, 2),
        "fps_per_stream_mean": round(float(np.mean(per_camera)), 2),
        "fps_per_stream_min": round(fps_min, 2),
        "latency_p50_s": None if p50 is None else round(p50, 3),
        "latency_p99_s": None if p99 is None else round(p99, 3),
        "frames_dropped_by_decoders": dropped,
        "frames_skipped_by_busy_workers": skipped,
        "engine_steps": steps,
        "engine_ms_per_step": {k: round(v / steps * 1000, 1) for k, v in stage_s.items()}
        if steps
        else None,
        "reid_crops_per_step": round(crops / steps, 2) if steps else 0,
        "mean_batch": round(batch_total / steps, 2) if steps else 0,
        "messages": sum(p.count for p in inside),
        "errors": sum(p.error is not None for p in inside),
        "decoder": decoders[0].decoder if decoders else node.decoder,
        "tracking_processes": min(node.workers, streams),
        "engine_torch_threads": torch.get_num_threads(),
        **figures,
    }
    result["held"] = fps_min >= HELD_SHARE * TARGET_FPS and p99 is not None and p99 < MAX_P99_S
    return result


def search_streams(
    run: Callable[[int], dict[str, Any]], start: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """The largest N ≤ ``limit`` with ``run(N)["held"]``: doubling from ``start``, bisecting."""
    tried: dict[int, dict[str, Any]] = {}

    def held(n: int) -> bool:
        if n not in tried:
            tried[n] = run(n)
            log.info(
                "%d streams: %.1f fps per stream (min), p99 %s s: %s",
                n,
                tried[n]["fps_per_stream_min"],
                tried[n]["latency_p99_s"],
                "held" if tried[n]["held"] else "not held",
            )
        return bool(tried[n]["held"])

    good, bad, n = 0, limit + 1, max(1, min(start, limit))
    while n <= limit:
        if not held(n):
            bad = n
            break
        good, n = n, n * 2
    while bad - good > max(1, good // 8):  # within an eighth of the answer is enough
        mid = (good + bad) // 2
        if held(mid):
            good = mid
        else:
            bad = mid
    return good, [tried[k] for k in sorted(tried)]


def run_bench(
    *,
    streams: int,
    device: str,
    duration_s: float,
    source: Path = DEFAULT_SOURCE,
    clip_frames: int = 150,
    search: bool = True,
    search_max: int | None = None,
    decoder: Decoder = "opencv",
    batches: list[int] | None = None,
    workers: int | None = None,
    echo: Callable[[str], None] = print,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]:
    """Every figure of the benchmark as one dict (see the module docstring)."""
    import cv2
    import torch

    from edge.weights import sha256_of, verified_weights

    if streams < 1:
        raise BenchError(f"--streams {streams} must be at least 1 camera stream.")
    if duration_s <= 0:
        raise BenchError(f"--duration-s {duration_s} must be a positive number of seconds.")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError(
            f"--device {device}: torch sees no CUDA device on this machine; use --device cpu."
        )
    cuda = device.startswith("cuda")
    load = round(os.getloadavg()[0], 2)  # other work on the machine skews every figure
    clip, codec = synthetic_clip(source, clip_frames)
    echo(f"clip: {clip} ({codec}, {WIDTH}x{HEIGHT}, {clip_frames} frames at {TARGET_FPS:g} fps)")
    weights = verified_weights()
    config = EdgeConfig()
    detector = BatchedPersonDetector.from_weights(
        weights, image_size=640, confidence=config.detector.confidence, device=device
    )
    embedder = DeviceEmbedder(
        mobilenet_reid_network(), width=224, height=224, model_name="mobilenetv2_imagenet",
        device=device,
    )  # fmt: skip
    capture = cv2.VideoCapture(str(clip))
    images = [capture.read()[1] for _ in range(min(32, clip_frames))]
    capture.release()
    cores = os.cpu_count() or 1
    workers = workers or max(1, cores - 4 if cuda else cores - 1)
    if not cuda:  # the engine's threads and the tracking processes share the cores
        torch.set_num_threads(max(1, cores - workers))
    batches = batches or ([1, 16, 32, 64, 128, 256] if cuda else [1, 2, 4])
    alone = detector_throughput(detector, images, batches, seconds=3.0 if cuda else 4.0)
    alone["torch_threads"] = torch.get_num_threads()
    echo(
        f"detector alone: {alone['images_per_s']} images/s at batch {alone['best_batch']} "
        f"({alone['images_per_s_by_batch']})"
    )
    limit = max(search_max or (512 if cuda else 8), streams) if search else streams
    embedder.warm_up(16 * limit)  # up to 16 confident people per camera, every shape once
    node = Node(detector, embedder, config, decoder, workers)

    def run(n: int) -> dict[str, Any]:
        result = end_to_end(node, clip, n, duration_s)
        echo(
            f"{n} streams: {result['fps_per_stream_min']:.1f} fps per stream (min), "
            f"{result['fps_total']:.1f} fps in all, latency p50 {result['latency_p50_s']} s / "
            f"p99 {result['latency_p99_s']} s, dropped {result['frames_dropped_by_decoders']}, "
            f"skipped {result['frames_skipped_by_busy_workers']}, CPU "
            f"{result.get('cpu_percent_of_machine')} %, GPU {result.get('gpu_percent')} %: "
            f"{'held' if result['held'] else 'not held'}"
        )
        return result

    results: dict[str, Any] = {
        "benchmark": "footfall edge bench",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "device": device,
        "device_name": device_name(device),
        "cpu_cores": cores,
        "load_average_1m_at_start": load,
        "torch": torch.__version__,
        "precision": "fp16" if detector.dtype == torch.float16 else "fp32",
        "detector": {
            "weights": weights.name,
            "weights_sha256": sha256_of(weights),
            "image_size": 640,
            **alone,
        },
        "reid": {
            "model": embedder.model_name,
            "input": [224, 224],
            "embeds": f"every box scored >= {config.tracker.track_high_thresh}",
        },
        "clip": {
            "path": str(clip),
            "codec": codec,
            "width": WIDTH,
            "height": HEIGHT,
            "frames": clip_frames,
            "source": str(source),
        },
        "target": {"fps": TARGET_FPS, "held_share": HELD_SHARE, "max_p99_s": MAX_P99_S},
        "end_to_end": None,
        "search": [],
        "max_streams_1080p_15fps": None,
        "complete": False,
    }
    runs: dict[int, dict[str, Any]] = {}

    def recorded(n: int) -> dict[str, Any]:
        if n not in runs:
            runs[n] = run(n)
            results["search"] = [runs[k] for k in sorted(runs)]
            if progress is not None:  # a run cut short still leaves every figure so far
                progress(results)
        return runs[n]

    results["end_to_end"] = recorded(streams)
    if search:
        best, _ = search_streams(recorded, streams, limit)
        results["max_streams_1080p_15fps"] = best
        echo(f"max_streams_1080p_15fps: {best}")
    results["complete"] = True
    return results


def write_results(results: dict[str, Any], path: Path | None) -> Path:
    target = path or RESULTS_DIR / f"edge_bench_{results['device'].split(':')[0]}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n")
    return target
