"""The edge command line's usage: every option has help, and bad input is one sentence."""

from __future__ import annotations

from pathlib import Path

import click
import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from edge_footage import DEMO_SITE

from edge.cli import edge
from footfall.cli import main


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


def test_every_option_of_footfall_edge_has_help_text() -> None:
    missing = [
        f"{path} {'/'.join(param.opts)}"
        for path, command in _commands(edge, "footfall edge")
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


def test_a_bad_node_id_is_one_sentence_before_anything_opens(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["edge", "run", "--site", str(DEMO_SITE), "--node", "Bad Node", "--sink", "memory"]
    )
    assert result.exit_code == 1, result.output
    assert "is not a valid node id: use lower-case letters" in result.output
    assert "Traceback" not in result.output and "validation error" not in result.output


def test_cuda_without_a_gpu_is_one_sentence_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edge.config import DetectorConfig
    from edge.detection_backends import DetectorBackendError, build_detector

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(
        "edge.detection_backends.verified_weights",
        lambda *a: pytest.fail("weights were loaded before the device was checked"),
    )
    config = DetectorConfig(backend="torch", precision="fp32", device="cuda")
    with pytest.raises(DetectorBackendError, match=r"no CUDA device here; use detector\.device"):
        build_detector(config)


def test_a_frame_past_the_end_of_the_clip_says_how_long_the_clip_is(tmp_path: Path) -> None:
    from edge.sources import SourceError, read_frame

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()
    assert read_frame(str(video), "cam-x", 11).shape == (48, 64, 3)
    with pytest.raises(SourceError, match=r"there is no frame 100000 .* the clip has 12 frames"):
        read_frame(str(video), "cam-x", 100000)
    folder = tmp_path / "seq" / "img1"
    folder.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(folder / f"{i + 1:06d}.jpg"), np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(SourceError, match="the clip has 3 frames; pick a frame from 0 to 2"):
        read_frame(str(folder.parent), "cam-x", 3)
