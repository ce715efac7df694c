"""``footfall edge replay``, ``annotate`` and ``optimize`` on short real clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner
from edge_footage import (
    CAMPUS_GT,
    CAMPUS_VIDEO,
    DEMO_SITE,
    SHARED_DATA,
    needs_campus,
    needs_pets,
)

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
    # Only the ground truth of the 15 frames replayed is scored, not the whole clip's.
    from edge.evaluate import evaluate

    expected = evaluate(out, CAMPUS_GT, range(1, 16)).line()
    assert f"tud-campus: {expected} (the 15 frames replayed)" in result.output


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


@needs_pets
def test_optimize_quantizes_once_on_the_sites_cameras(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(DEMO_SITE.read_text().replace("../../../shared/data", str(SHARED_DATA)))
    config = tmp_path / "edge.yaml"
    cache = tmp_path / "cache"
    config.write_text(
        f"detector:\n  image_size: 320\n  calibration_frames: 9\n  cache_dir: {cache}\n"
    )
    command = ["edge", "optimize", "--site", str(site), "--config", str(config)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    assert "detector: openvino int8 at 320 px" in result.output
    assert "fp32" in result.output and "int8" in result.output and "ms per frame" in result.output
    assert "re-id: mobilenet_parts" in result.output
    (model,) = cache.glob("*-openvino-320/int8-*/*.xml")
    stamp = model.stat().st_mtime_ns
    again = CliRunner().invoke(main, command)  # cached: not quantized again
    assert again.exit_code == 0 and model.stat().st_mtime_ns == stamp
