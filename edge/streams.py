"""Live camera streams (RTSP, HTTP) that reconnect with exponential backoff.

A stream that drops or cannot be opened is retried after 1, 2, 4, … seconds (capped); while it is
down ``last_error`` holds one sentence for the heartbeat (None again once frames flow). Timestamps
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

log = logging.getLogger(__name__)


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
    """An RTSP/HTTP stream as frames, reconnecting until ``stop()`` or ``max_frames``."""

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
        open_capture: Callable[[str], cv2.VideoCapture] = cv2.VideoCapture,
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

    def _down(self, sentence: str) -> None:
        self._anchor = None
        if sentence != self.last_error:
            log.warning(sentence)
        self.last_error = sentence
        delay = self.backoff.next_delay()
        self._sleep(delay)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while not self._stopped.is_set():
            capture = self._open(self.uri)
            if not capture.isOpened():
                self._down(
                    f"Camera {self.camera_id}: cannot open stream {self.uri}; retrying with "
                    "backoff (check the URL, credentials and that the camera is reachable)."
                )
                continue
            try:
                while not self._stopped.is_set():
                    ok, image = capture.read()
                    if not ok or image is None:
                        break
                    self.last_error = None
                    self.backoff.reset()
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
