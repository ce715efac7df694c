"""Camera sources: video files, MOTChallenge image folders, MOTChallenge detection files and live
streams, with UTC timestamps.

Every frame comes out as a :class:`~edge.frames.Frame` with a trustworthy UTC ``captured_at``:

* files and image folders: the source's start time plus ``index / fps`` (``fps`` from the site
  config when given, else the container's; the start time is given, or the moment the source was
  opened);
* streams (:mod:`edge.streams`): the stream's own clock anchored to the wall clock at the first
  frame, re-anchored when the two drift apart.

A detection file (``.txt``, see :mod:`edge.detection_file`) is a camera without pixels: its
frames carry the file's boxes and a blank image of the camera's resolution.

Replays either pace themselves in real time or run as fast as possible. A source that cannot be
opened raises :class:`SourceError` with one sentence naming the camera, the source and the fix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from edge.detection import Detections
from edge.detection_file import is_detection_file, load_detection_file
from edge.frames import Frame, FrameSource
from edge.streams import StreamSource
from footfall.errors import UserError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https", "rtmp"})
BOUNDED_STREAM_ATTEMPTS = 5
"""A stream of a run bounded by ``max_frames`` gives up after this many failed attempts in a row
(waiting 1 + 2 + 4 + 8 s between them), so a dead camera cannot keep the run from ending."""


class SourceError(UserError, RuntimeError):
    """A camera source cannot be read; ``str()`` names the camera, the source and the fix."""


def is_stream(uri: str) -> bool:
    return uri.split("://", 1)[0].lower() in STREAM_SCHEMES if "://" in uri else False


def _local_path(uri: str, camera_id: str) -> Path:
    path = Path(uri.removeprefix("file://"))
    if not path.exists():
        raise SourceError(
            f"Camera {camera_id}: source {path} does not exist; fix `source` in the site config."
        )
    return path


def _folder_images(path: Path, camera_id: str) -> list[Path]:
    folder = path / "img1" if (path / "img1").is_dir() else path
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise SourceError(
            f"Camera {camera_id}: folder {folder} holds no .jpg/.png frames; point `source` "
            "at a video file or an img1/ folder."
        )
    return images


class _Clock:
    """Paces a replayed source and stamps its frames: frame ``index`` is captured
    ``index / fps`` seconds after frame 0, and with ``realtime`` is handed out that long after
    the first frame was. Frame 0 is at ``start_time`` (UTC); without one, at the moment of
    opening, or with ``realtime`` the moment the first frame is handed out (so
    capture-to-publish latency is real)."""

    def __init__(
        self, camera_id: str, fps: float, start_time: datetime | None, realtime: bool
    ) -> None:
        if start_time is not None and start_time.tzinfo is None:
            raise SourceError(f"Camera {camera_id}: start time {start_time} has no UTC offset.")
        self.fps = fps
        self.realtime = realtime
        self.start_time = (start_time or datetime.now(UTC)).astimezone(UTC)
        self._anchor_at_first_frame = realtime and start_time is None
        self._t0: float | None = None

    def captured_at(self, index: int) -> datetime:
        """Wait until frame ``index`` is due (``realtime``), then its capture time."""
        if self.realtime:
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now - index / self.fps
            delay = self._t0 + index / self.fps - now
            if delay > 0:
                time.sleep(delay)
        if self._anchor_at_first_frame:
            self._anchor_at_first_frame = False
            self.start_time = datetime.now(UTC) - timedelta(seconds=index / self.fps)
        return self.start_time + timedelta(seconds=index / self.fps)


class FileSource:
    """A video file (mp4, avi, mpg, …) or a folder of frames (MOTChallenge ``img1/``).

    ``fps``: the real capture rate (the container's when None); ``start_time``: UTC time of
    frame 0 (when None: the moment of opening, or with ``realtime`` the moment the first frame
    is handed out); ``realtime``: pace frames at ``fps``;
    ``max_frames``: stop after this many frames.
    """

    def __init__(
        self,
        uri: str,
        camera_id: str,
        *,
        fps: float | None = None,
        start_time: datetime | None = None,
        realtime: bool = False,
        max_frames: int | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.path = _local_path(uri, camera_id)
        if is_detection_file(str(self.path)):
            raise SourceError(_no_pixels(camera_id, self.path))
        self._images = _folder_images(self.path, camera_id) if self.path.is_dir() else None
        self._capture: cv2.VideoCapture | None = None
        container_fps = 0.0
        if self._images is None:
            self._capture = cv2.VideoCapture(str(self.path))
            if not self._capture.isOpened():
                raise SourceError(
                    f"Camera {camera_id}: cannot open {self.path}; check that it is a video "
                    "OpenCV can decode (mp4, avi, mpg)."
                )
            container_fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = float(fps or container_fps or 25.0)
        self.max_frames = max_frames
        self._clock = _Clock(camera_id, self.fps, start_time, realtime)

    def frame_count(self) -> int | None:
        """Frames in the source (container metadata for videos), capped by ``max_frames``."""
        if self._images is not None:
            count: int | None = len(self._images)
        else:
            assert self._capture is not None
            count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        if self.max_frames is not None:
            return self.max_frames if count is None else min(count, self.max_frames)
        return count

    def _decode(self, index: int) -> np.ndarray | None:
        if self._images is not None:
            if index >= len(self._images):
                return None
            image = cv2.imread(str(self._images[index]))
            if image is None:
                raise SourceError(f"Camera {self.camera_id}: cannot decode {self._images[index]}.")
            return np.asarray(image)
        assert self._capture is not None
        ok, image = self._capture.read()
        return np.asarray(image) if ok and image is not None else None

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while self.max_frames is None or index < self.max_frames:
            image = self._decode(index)
            if image is None:
                if index == 0:
                    raise SourceError(
                        f"Camera {self.camera_id}: {self.path} opened but no frame could be "
                        "decoded; the file may be truncated or use an unsupported codec."
                    )
                return
            yield Frame(self.camera_id, index, self._clock.captured_at(index), image)
            index += 1

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()


class DetectionFileSource:
    """A MOTChallenge detection file replayed as a camera without pixels.

    Every frame from the first to the file's last frame number is handed out (frames without
    rows have no people), with the file's boxes scoring at least ``min_score`` and a blank
    image of ``resolution`` (width, height: the site camera's). Timestamps and pacing are as
    for :class:`FileSource`; ``fps`` is required (a text file has no frame rate).
    """

    pixels = False

    def __init__(
        self,
        uri: str,
        camera_id: str,
        *,
        resolution: tuple[int, int] | None,
        fps: float | None = None,
        start_time: datetime | None = None,
        realtime: bool = False,
        max_frames: int | None = None,
        min_score: float = 0.0,
    ) -> None:
        self.camera_id = camera_id
        self.path = _local_path(uri, camera_id)
        if resolution is None:
            raise SourceError(
                f"Camera {camera_id}: detection file {self.path} has no image size; replay it "
                "as a site camera (its resolution) or give the resolution."
            )
        if fps is None:
            raise SourceError(
                f"Camera {camera_id}: detection file {self.path} has no frame rate; give the "
                "camera's fps in the site config (or --fps)."
            )
        self.fps = float(fps)
        self.detections, self.total = load_detection_file(self.path, min_score)
        width, height = resolution
        self._blank = np.zeros((height, width, 3), np.uint8)
        self._blank.setflags(write=False)
        self.max_frames = max_frames
        self._clock = _Clock(camera_id, self.fps, start_time, realtime)

    def frame_count(self) -> int | None:
        if self.max_frames is not None:
            return min(self.total, self.max_frames)
        return self.total

    def __iter__(self) -> Iterator[Frame]:
        count = self.frame_count() or 0
        for index in range(count):
            found = self.detections.get(index, Detections())
            captured_at = self._clock.captured_at(index)
            yield Frame(self.camera_id, index, captured_at, self._blank, found, pixels=False)

    def close(self) -> None:
        pass


def prefetched(source: FrameSource, depth: int = 4) -> Iterator[Frame]:
    """``source``'s frames, decoded ``depth`` ahead on a thread (OpenCV releases the GIL).

    Errors of the source (``SourceError``) are raised here, in the consumer's thread.
    """
    import queue
    import threading

    frames: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def read() -> None:
        try:
            for frame in source:
                while not stop.is_set():
                    try:
                        frames.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            frames.put(end)
        except BaseException as exc:  # handed to the consumer
            frames.put(exc)

    reader = threading.Thread(target=read, name=f"decode-{source.camera_id}", daemon=True)
    reader.start()
    try:
        while True:
            item = frames.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item
    finally:
        stop.set()


def open_source(
    uri: str,
    camera_id: str,
    *,
    fps: float | None = None,
    start_time: datetime | None = None,
    realtime: bool = False,
    max_frames: int | None = None,
    resolution: tuple[int, int] | None = None,
    min_score: float = 0.0,
) -> FrameSource:
    """Open a file, an image folder, a detection file (``.txt``; needs ``resolution`` and
    ``fps``, keeps scores ≥ ``min_score``) or a stream (``rtsp://``, ``http(s)://``; in a run
    bounded by ``max_frames`` it gives up after :data:`BOUNDED_STREAM_ATTEMPTS` failed attempts
    in a row, else it retries for ever)."""
    if is_stream(uri):
        attempts = BOUNDED_STREAM_ATTEMPTS if max_frames is not None else None
        return StreamSource(uri, camera_id, fps=fps, max_frames=max_frames, max_attempts=attempts)
    if is_detection_file(uri.removeprefix("file://")):
        return DetectionFileSource(
            uri.removeprefix("file://"),
            camera_id,
            resolution=resolution,
            fps=fps,
            start_time=start_time,
            realtime=realtime,
            max_frames=max_frames,
            min_score=min_score,
        )
    return FileSource(
        uri,
        camera_id,
        fps=fps,
        start_time=start_time,
        realtime=realtime,
        max_frames=max_frames,
    )


def _no_pixels(camera_id: str, path: Path) -> str:
    return (
        f"Camera {camera_id}: {path} is a detection file, a camera without pixels; it is "
        "replayed (edge run, edge replay), not decoded."
    )


def _beyond_the_clip(camera_id: str, path: Path, index: int, count: int) -> str:
    return (
        f"Camera {camera_id}: there is no frame {index} in {path}: the clip has {count} frames; "
        f"pick a frame from 0 to {count - 1}."
    )


def read_frame(uri: str, camera_id: str, index: int = 0) -> np.ndarray:
    """Read frame ``index`` (0-based) of a video file, an ``img1/``-style folder, or a stream.

    Returns a BGR uint8 image. Raises SourceError with one sentence when it cannot be read.
    """
    if not is_stream(uri):
        path = _local_path(uri, camera_id)
        if is_detection_file(str(path)):
            raise SourceError(_no_pixels(camera_id, path))
        if path.is_dir():
            images = _folder_images(path, camera_id)
            if not 0 <= index < len(images):
                raise SourceError(_beyond_the_clip(camera_id, path, index, len(images)))
            frame = cv2.imread(str(images[index]))
            if frame is None:
                raise SourceError(f"Camera {camera_id}: cannot decode {images[index]}.")
            return np.asarray(frame)
        uri = str(path)
    capture = cv2.VideoCapture(uri)
    try:
        if not capture.isOpened():
            raise SourceError(
                f"Camera {camera_id}: cannot open {uri}; check the path or URL and that the "
                "format is a video OpenCV can decode (mp4, avi, mpg) or a reachable stream."
            )
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if not is_stream(uri) else 0
        if index < 0 or 0 < count <= index:
            raise SourceError(_beyond_the_clip(camera_id, Path(uri), index, count))
        if index > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = capture.read()
        if not ok or frame is None:
            raise SourceError(
                f"Camera {camera_id}: {uri} opened but no frame {index} could be decoded; the "
                "file may be truncated or use an unsupported codec."
            )
        return np.asarray(frame)
    finally:
        capture.release()
