"""Live camera streams (RTSP, HTTP) that reconnect with exponential backoff.

A stream that drops or cannot be opened is retried after 1, 2, 4, … seconds (capped); while it is
down ``last_error`` holds one sentence for the heartbeat (None again once frames flow). A bounded
run (``max_attempts``) gives up after that many failed attempts in a row, raising
:class:`StreamUnreachable`, so a dead camera cannot keep the run from ending. Opening and reading
time out after ``timeout_s`` (FFmpeg would otherwise wait on a silent host). Timestamps
come from the stream clock (``CAP_PROP_POS_MSEC``) anchored to the wall clock at the first frame,
and fall back to the wall clock when the stream has no clock or drifts more than ``max_drift_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from edge.frames import Frame
from footfall.errors import UserError

log = logging.getLogger(__name__)


class StreamUnreachable(UserError, RuntimeError):
    """A bounded run's stream could not be opened in its attempts; ``str()`` says so."""


def open_stream(uri: str, timeout_s: float = 10.0) -> cv2.VideoCapture:
    """An FFmpeg capture of ``uri`` whose opening and reads time out after ``timeout_s``."""
    ms = int(timeout_s * 1000)
    return cv2.VideoCapture(
        uri,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms],
    )


class Backoff:
    """Delays 1, 2, 4, … seconds up to ``max_s``; ``reset`` after a success."""

    def __init__(self, initial_s: float = 1.0, max_s: float = 30.0) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self._next = initial_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay

    def reset(self) -> None:
        self._next = self.initial_s


class StreamSource:
    """An RTSP/HTTP stream as frames, reconnecting until ``stop()`` or ``max_frames`` (or, with
    ``max_attempts``, until that many attempts in a row failed)."""

    def __init__(
        self,
        uri: str,
        camera_id: str,
        *,
        fps: float | None = None,
        max_frames: int | None = None,
        backoff: Backoff | None = None,
        max_drift_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        open_capture: Callable[[str], cv2.VideoCapture] = open_stream,
        max_attempts: int | None = None,
    ) -> None:
        self.uri = uri
        self.camera_id = camera_id
        self.fps = float(fps or 25.0)
        self.max_frames = max_frames
        self.backoff = backoff or Backoff()
        self.max_drift_s = max_drift_s
        self.last_error: str | None = None
        self._sleep = sleep
        self._open = open_capture
        self.max_attempts = max_attempts
        self._failed_attempts = 0
        self._waited_s = 0.0
        self._stopped = threading.Event()
        self._anchor: tuple[datetime, float] | None = None

    def stop(self) -> None:
        self._stopped.set()

    def _timestamp(self, capture: cv2.VideoCapture) -> datetime:
        now = datetime.now(UTC)
        pos_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
        if pos_ms <= 0.0:
            return now
        if self._anchor is None:
            self._anchor = (now, pos_ms)
        at = self._anchor[0] + timedelta(milliseconds=pos_ms - self._anchor[1])
        if abs((at - now).total_seconds()) > self.max_drift_s:
            self._anchor = (now, pos_ms)
            at = now
        return at

    def probe(self) -> str | None:
        """Open the stream once and close it: None if it opens, else the sentence (also kept in
        ``last_error`` for the first heartbeat)."""
        capture = self._open(self.uri)
        try:
            if capture.isOpened():
                return None
        finally:
            capture.release()
        self.last_error = self._unreachable()
        return self.last_error

    def _unreachable(self) -> str:
        return (
            f"Camera {self.camera_id}: cannot open stream {self.uri}; retrying with backoff "
            "(check the URL, credentials and that the camera is reachable)."
        )

    def _down(self, sentence: str) -> None:
        self._anchor = None
        self._failed_attempts += 1
        if self.max_attempts is not None and self._failed_attempts >= self.max_attempts:
            self.last_error = (
                f"Camera {self.camera_id}: gave up on stream {self.uri} after "
                f"{self._failed_attempts} failed attempts over {self._waited_s:.0f} s; check "
                "that the camera is reachable, or leave it out (--camera)."
            )
            raise StreamUnreachable(self.last_error)
        if sentence != self.last_error:
            log.warning(sentence)
        self.last_error = sentence
        delay = self.backoff.next_delay()
        self._waited_s += delay
        self._sleep(delay)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while not self._stopped.is_set():
            capture = self._open(self.uri)
            if not capture.isOpened():
                self._down(self._unreachable())
                continue
            try:
                while not self._stopped.is_set():
                    ok, image = capture.read()
                    if not ok or image is None:
                        break
                    self.last_error = None
                    self.backoff.reset()
                    self._failed_attempts = 0
                    self._waited_s = 0.0
                    yield Frame(self.camera_id, index, self._timestamp(capture), np.asarray(image))
                    index += 1
                    if self.max_frames is not None and index >= self.max_frames:
                        return
            finally:
                capture.release()
            if not self._stopped.is_set():
                self._down(f"Camera {self.camera_id}: stream {self.uri} stopped; reconnecting.")

    def close(self) -> None:
        self.stop()
