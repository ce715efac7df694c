"""Replay from detections: a MOTChallenge detection file is a camera without pixels.

The same tracking, floor projection, tracklets and messages run on it; no detector and no Re-ID
(its tracklets end without an embedding, which the contract allows).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from edge.config import load_edge_config
from edge.detection_file import DetectionFileError, load_detection_file
from edge.pipeline import Identity
from edge.replay import replay
from edge.sources import DetectionFileSource, SourceError, open_source
from footfall.contract import (
    FrameObservations,
    TrackletEnded,
    TrackletStarted,
    decode,
    encode,
    new_run_id,
)
from footfall.site import load_site

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _walkers(path: Path, frames: int = 40, skip: tuple[int, ...] = ()) -> Path:
    """Two people walking across a 720x576 image, a box each per frame (frame numbers from 1),
    plus a low-score box; ``skip``: frames with no rows at all."""
    rows = []
    for f in range(1, frames + 1):
        if f in skip:
            continue
        rows.append(f"{f},-1,{100 + 8 * f:.2f},200.00,50.00,150.00,0.95,-1,-1,-1")
        rows.append(f"{f},-1,{600 - 6 * f:.2f},260.00,55.00,160.00,0.90,-1,-1,-1")
        rows.append(f"{f},-1,10.00,10.00,5.00,9.00,0.05,-1,-1,-1")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_rows_become_detections_per_frame_scores_thresholded(tmp_path: Path) -> None:
    found, total = load_detection_file(_walkers(tmp_path / "det.txt", 5, skip=(3,)), 0.3)
    assert total == 5 and sorted(found) == [0, 1, 3, 4]  # 0-based; frame 3 had no rows
    np.testing.assert_allclose(found[0].xyxy[0], [108, 200, 158, 350])
    assert len(found[0]) == 2  # the 0.05 box is below the threshold


def test_a_source_yields_every_frame_with_a_blank_image(tmp_path: Path) -> None:
    source = open_source(
        str(_walkers(tmp_path / "det.txt", 6, skip=(6, 2))), "v5", fps=7, start_time=T0,
        resolution=(720, 576), min_score=0.3,
    )  # fmt: skip
    assert isinstance(source, DetectionFileSource) and source.frame_count() == 5
    frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]  # frame 6 is past the last row
    assert frames[1].detections is not None and len(frames[1].detections) == 0
    assert frames[0].image.shape == (576, 720, 3) and not frames[0].pixels
    assert (frames[4].captured_at - T0).total_seconds() == pytest.approx(4 / 7)


def test_bad_files_are_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("frame,id\nnot,numbers\n")
    with pytest.raises(DetectionFileError, match="is not MOTChallenge detections"):
        load_detection_file(bad)
    with pytest.raises(SourceError, match="has no image size"):
        open_source(str(_walkers(tmp_path / "d.txt", 3)), "v5", fps=7)
    with pytest.raises(SourceError, match="does not exist"):
        open_source(str(tmp_path / "missing.txt"), "v5", fps=7, resolution=(720, 576))


def test_replay_tracks_projects_and_ends_tracklets_without_embeddings(tmp_path: Path) -> None:
    site = load_site(REPO / "configs" / "sites" / "pets_plaza.yaml")
    camera = site.cameras[1]
    config = load_edge_config(REPO / "configs" / "edge" / "default.yaml")
    identity = Identity(site.site.id, "node-a", new_run_id())
    messages = []
    summary = replay(
        str(_walkers(tmp_path / "det.txt", 40)),
        camera.id,
        config,
        camera=camera,
        start_time=T0,
        identity=identity,
        progress=False,
        on_result=[lambda r: messages.extend(r.messages)],
    )
    assert summary.frames == 40 and summary.tracks == 2
    frames = [m for m in messages if isinstance(m, FrameObservations)]
    assert len(frames) == 40
    assert any(t.floor_xy is not None for f in frames for t in f.tracks)
    starts = [m for m in messages if isinstance(m, TrackletStarted)]
    ends = [m for m in messages if isinstance(m, TrackletEnded)]
    assert len(starts) == len(ends) == 2  # the open tracklets end when the camera stops
    for end in ends:
        assert end.embedding is None and end.embedding_model is None and end.quality is None
        assert decode(encode(end)) == end  # valid on the wire
        assert end.frame_count >= 30


def test_a_detection_file_is_not_decoded_as_footage(tmp_path: Path) -> None:
    from edge.sources import FileSource, read_frame

    det = _walkers(tmp_path / "det.txt", 5)
    with pytest.raises(SourceError, match="is a detection file, a camera without pixels"):
        read_frame(str(det), "v5", 0)
    with pytest.raises(SourceError, match="is a detection file"):
        FileSource(str(det), "v5")


def test_edge_check_reports_a_detection_file_camera(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge.cli import _check_detection_file

    camera = load_site(REPO / "configs" / "sites" / "pets_plaza.yaml").cameras[1]
    camera = camera.model_copy(update={"source": str(_walkers(tmp_path / "det.txt", 5))})
    assert _check_detection_file(camera, 2, 0.3) == 0
    assert "detection file (5 frames, no pixels), frame 2: 2 people in the file" in (
        capsys.readouterr().out
    )
    assert _check_detection_file(camera, 5, 0.3) == 1
    assert "there is no frame 5" in capsys.readouterr().out
