"""``footfall edge replay`` and ``footfall edge annotate`` on a short real clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner
from edge_footage import CAMPUS_GT, CAMPUS_VIDEO, needs_campus

from footfall.cli import main

FAST = "detector:\n  image_size: 320\nreid:\n  backend: none\n"


@needs_campus
def test_replay_writes_mot_rows_from_frame_one_and_scores_them(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(FAST)
    out = tmp_path / "campus.txt"
    result = CliRunner().invoke(
        main,
        ["edge", "replay", str(CAMPUS_VIDEO), "--camera", "tud-campus", "--fps", "25",
         "--config", str(config), "--max-frames", "15", "--mot-out", str(out),
         "--gt", str(CAMPUS_GT)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "15 frames" in result.output and "MOTA" in result.output and "IDF1" in result.output
    rows = np.loadtxt(out, delimiter=",")
    assert rows.shape[1] == 10 and rows[:, 0].min() == 1 and rows[:, 0].max() <= 15


@needs_campus
def test_annotate_writes_a_video_with_every_frame(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(FAST)
    video = tmp_path / "annotated.mp4"
    result = CliRunner().invoke(
        main,
        ["edge", "annotate", str(CAMPUS_VIDEO), "--camera", "tud-campus", "--config",
         str(config), "--max-frames", "5", "--out", str(video)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    capture.release()


def test_user_mistakes_are_one_sentence(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["edge", "replay", str(tmp_path / "none.mp4"), "--camera", "x", "--mot-out",
         str(tmp_path / "o.txt")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "does not exist; fix `source`" in result.output
    assert "Traceback" not in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("tracker:\n  buffer: 3\n")
    result = CliRunner().invoke(
        main,
        ["edge", "replay", "x.mp4", "--camera", "x", "--config", str(bad), "--mot-out", "o.txt"],
    )
    assert (
        result.exit_code == 1 and "tracker.buffer: Extra inputs are not permitted" in result.output
    )
