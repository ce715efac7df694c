"""Frame sources: timestamps, image folders, clear errors, stream reconnection with backoff."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from edge_footage import CAMPUS_VIDEO, needs_campus

from edge.sources import FileSource, SourceError, open_source
from edge.streams import Backoff, StreamSource

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@needs_campus
def test_video_frames_are_stamped_from_the_start_time_and_the_real_fps() -> None:
    source = FileSource(str(CAMPUS_VIDEO), "tud-campus", fps=25, start_time=START, max_frames=5)
    frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[4].captured_at == START + timedelta(seconds=4 / 25)
    assert frames[0].image.shape == (480, 640, 3)
    assert source.frame_count() == 5


def test_an_img1_folder_is_read_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "seq" / "img1"
    folder.mkdir(parents=True)
    for i in (2, 1, 3):
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), np.full((16, 24, 3), i * 40, np.uint8))
    source = open_source(str(tmp_path / "seq"), "cam", fps=7, start_time=START)
    frames = list(source)
    assert len(frames) == 3
    assert [int(f.image.mean() // 40) for f in frames] == [1, 2, 3]
    assert frames[2].captured_at == START + timedelta(seconds=2 / 7)


def test_a_realtime_replay_is_stamped_from_its_first_frame_not_from_opening(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "img1"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:06d}.png"), np.zeros((8, 8, 3), np.uint8))
    source = FileSource(str(tmp_path), "cam", fps=20, realtime=True)
    time.sleep(0.3)  # models load between opening and the first frame
    frames = []
    for frame in source:
        frames.append(frame)
        assert abs((datetime.now(UTC) - frame.captured_at).total_seconds()) < 0.1
    assert frames[2].captured_at - frames[0].captured_at == timedelta(seconds=2 / 20)


def test_dead_sources_give_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"cam-x: source .* does not exist; fix `source`"):
        FileSource(str(tmp_path / "missing.mp4"), "cam-x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"holds no \.jpg/\.png frames"):
        FileSource(str(tmp_path / "empty"), "cam-x")
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="cam-x"):
        list(FileSource(str(junk), "cam-x"))


def test_naive_start_time_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "img1"
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(SourceError, match="no UTC offset"):
        FileSource(str(tmp_path), "cam", start_time=datetime(2024, 1, 1))


class _FakeCapture:
    """Stands in for cv2.VideoCapture: opens or not, then yields ``frames`` frames."""

    def __init__(self, opens: bool, frames: int) -> None:
        self.opens, self.left, self.pos_ms = opens, frames, 0.0

    def isOpened(self) -> bool:
        return self.opens

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.left <= 0:
            return False, None
        self.left -= 1
        self.pos_ms += 40.0
        return True, np.zeros((4, 4, 3), np.uint8)

    def get(self, prop: int) -> float:
        return self.pos_ms if prop == cv2.CAP_PROP_POS_MSEC else 0.0

    def release(self) -> None:
        pass


def test_a_stream_reconnects_with_backoff_and_keeps_its_clock() -> None:
    # down, down, 3 frames then drop, down, 2 frames
    plan = iter([(False, 0), (False, 0), (True, 3), (False, 0), (True, 2)])
    sleeps: list[float] = []
    stream = StreamSource(
        "rtsp://camera.invalid/stream",
        "cam-live",
        max_frames=5,
        backoff=Backoff(1.0, 30.0),
        sleep=sleeps.append,
        open_capture=lambda uri: _FakeCapture(*next(plan)),  # type: ignore[arg-type,return-value]
    )
    frames = list(stream)
    assert len(frames) == 5
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    # 1, 2 before the first success; the backoff resets after frames arrive: 1, 2 again
    assert sleeps == [1.0, 2.0, 1.0, 2.0]
    assert stream.last_error is None  # cleared once frames flow again (heartbeats read it)
    steps = [
        (b.captured_at - a.captured_at).total_seconds() for a, b in itertools.pairwise(frames[:3])
    ]
    assert steps == pytest.approx([0.04, 0.04], abs=1e-6)
    assert frames[0].captured_at.tzinfo is not None


def test_backoff_is_capped() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
