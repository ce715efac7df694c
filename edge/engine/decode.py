"""One decode worker per camera: a thread that keeps the newest frame, and counts what it drops.

``decoder: opencv`` decodes on the CPU (OpenCV's FFmpeg; the thread releases the GIL while it
decodes, so N cameras use N cores). ``decoder: nvdec`` decodes on the GPU's hardware video
decoder with PyNvVideoCodec (a wheel carried to the GPU machine) and hands the frame over as a
CUDA tensor (DLPack, no copy through the host); where PyNvVideoCodec is not installed or cannot
open the stream, the worker logs one line and falls back to OpenCV.

Each worker holds one slot: a new frame replaces one the engine has not taken yet, and the
replaced frame is counted in ``dropped`` (a node that cannot keep up skips frames instead of
falling behind). ``pace_fps`` replays a file at a camera's rate (the benchmark's live cameras);
``loop`` starts the file again at its end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

Decoder = Literal["opencv", "nvdec"]


@dataclass(frozen=True)
class DecodedFrame:
    """A frame as decoded: ``image`` BGR uint8 (H, W, 3) numpy (OpenCV) or RGB uint8 (H, W, 3)
    CUDA tensor (NVDEC, ``rgb`` True); ``captured``: ``time.perf_counter()`` at decode (the
    start of capture-to-publish latency, comparable across processes on one machine)."""

    camera_id: str
    index: int
    captured: float
    captured_at: datetime
    image: Any
    rgb: bool = False


def _opencv_frames(path: str) -> Iterator[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise OSError(f"OpenCV cannot open {path}")
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield image
    finally:
        capture.release()


def _nvdec_frames(path: str, gpu_id: int) -> Iterator[Any]:
    import PyNvVideoCodec as nvc
    from torch.utils.dlpack import from_dlpack

    decoder = nvc.SimpleDecoder(
        path, gpu_id=gpu_id, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB
    )
    # In order, in batches of up to 8 and never past the last frame (asking for more logs an
    # "INVALID INDEX" line per frame). A frame's buffer is reused by the next batch, hence the
    # copy on the device (seen on an H200: an illegal memory access without it).
    try:
        left = len(decoder)
    except TypeError:  # a version without a length: read until a batch comes back empty
        left = 1 << 62
    while left > 0:
        batch = decoder.get_batch_frames(min(8, left))
        if not batch:
            return
        left -= len(batch)
        for frame in batch:
            yield from_dlpack(frame).clone()


def nvdec_available() -> bool:
    try:
        import PyNvVideoCodec  # noqa: F401
    except Exception:
        return False
    return True


class Pacer:
    """When each frame of a camera replayed at ``fps`` is due.

    A late frame goes at once and the schedule is kept, as a live camera keeps sending while
    its reader is busy (reopening a looped file, say), so a reader at most ``max_lag_s``
    behind catches up; one further behind starts a new schedule from now rather than release
    a burst. (Measured on an H200: starting a new schedule after each reopen of a 10 s clip
    held NVDEC streams at 14.1 fps, under the benchmark's 14.25.)"""

    def __init__(self, fps: float, max_lag_s: float = 1.0) -> None:
        self.period = 1.0 / fps
        self.max_lag_s = max_lag_s
        self._due: float | None = None

    def delay(self, now: float) -> float:
        """Seconds to wait (0 when late) before the next frame, which is then counted sent."""
        due = now if self._due is None else self._due + self.period
        if now - due > self.max_lag_s:
            due = now
        self._due = due
        return max(0.0, due - now)


class DecodeWorker:
    """Decodes one camera on its own thread into a one-frame slot (newest wins).

    Counters: ``decoded`` frames, ``dropped`` (replaced before the engine took them),
    ``taken``; ``decoder`` is the one in use after any fallback."""

    def __init__(
        self,
        camera_id: str,
        path: str,
        *,
        decoder: Decoder = "opencv",
        pace_fps: float | None = None,
        loop: bool = False,
        gpu_id: int = 0,
    ) -> None:
        self.camera_id = camera_id
        self.path = path
        self.decoder: Decoder = decoder
        if decoder == "nvdec" and not nvdec_available():
            log.warning(
                "camera %s: decoder nvdec needs PyNvVideoCodec, not installed here; decoding "
                "with OpenCV on the CPU",
                camera_id,
            )
            self.decoder = "opencv"
        self.pace_fps = pace_fps
        self.loop = loop
        self.gpu_id = gpu_id
        self.decoded = self.dropped = self.taken = 0
        self.error: str | None = None
        self._slot: DecodedFrame | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"decode-{camera_id}", daemon=True)

    def start(self) -> DecodeWorker:
        self._thread.start()
        return self

    def _frames(self) -> Iterator[Any]:
        if self.decoder == "nvdec":
            try:
                yield from _nvdec_frames(self.path, self.gpu_id)
                return
            except Exception as exc:  # a driver or codec problem: say so once, use the CPU
                log.warning(
                    "camera %s: NVDEC cannot decode %s (%s); decoding with OpenCV on the CPU",
                    self.camera_id,
                    self.path,
                    exc,
                )
                self.decoder = "opencv"
        yield from _opencv_frames(self.path)

    def _run(self) -> None:
        index = 0
        pacer = Pacer(self.pace_fps) if self.pace_fps else None
        try:
            while not self._stop.is_set():
                produced = False
                for image in self._frames():
                    produced = True
                    if self._stop.is_set():
                        return
                    if pacer is not None and (delay := pacer.delay(time.perf_counter())) > 0:
                        time.sleep(delay)
                    frame = DecodedFrame(
                        self.camera_id,
                        index,
                        time.perf_counter(),
                        datetime.now(UTC),
                        image,
                        rgb=self.decoder == "nvdec",
                    )
                    index += 1
                    with self._lock:
                        if self._slot is not None:
                            self.dropped += 1
                        self._slot = frame
                        self.decoded += 1
                if not (self.loop and produced):
                    return
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("camera %s: decoding stopped (%s)", self.camera_id, self.error)

    def take(self) -> DecodedFrame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            frame, self._slot = self._slot, None
        if frame is not None:
            self.taken += 1
        return frame

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
