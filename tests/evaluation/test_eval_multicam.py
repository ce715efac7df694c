"""Multi-camera evaluation (`footfall eval` with a multi_camera group) on the first 60 frames of
the two PETS09-S2L1 views: both replayed from their real detection files through the edge
pipeline, stitched by the cloud's stitcher, scored over global ids (about 15 s on 2 cores; the
manifest's other group, View_001 from its video, is left out: it needs the detector).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from footfall.evaluation.manifest import ManifestError, load_manifest
from footfall.evaluation.multicam import _errors, _match, _reentries

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data" / "pets2009_s2l1_multiview").resolve()
FRAMES = 60


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data not present")
def test_two_pets_views_are_replayed_stitched_and_scored(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "eval", "configs/eval/pets_multiview.yaml",
         "--sequence", "pets-two-view", "--max-frames", str(FRAMES), "--out", str(out),
         "--work-dir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (group,) = json.loads((out / "metrics.json").read_text())["multi_camera"]
    assert (out / "plots" / "multicam_pets-two-view_default.png").is_file()
    assert "Multi-camera: pets-two-view" in (out / "report.md").read_text()
    true_ids = set()
    for view in ("View_001", "View_005"):
        gt = np.loadtxt(DATA / "gt" / f"{view}.txt", delimiter=",")
        true_ids |= set(gt[gt[:, 0] <= FRAMES, 1].astype(int).tolist())
    assert group["true_visitors"] == len(true_ids)
    for camera in group["cameras"]:
        assert camera["frames"] == FRAMES and not camera["pixels"]
        assert camera["tracking"]["mota"] > 0.4 and camera["tracking"]["recall"] > 0.8
    assert group["tracklets_with_embedding"] == 0  # detection files: no appearance
    modes = group["modes"]
    # stitching people seen by both cameras at once beats leaving every track on its own
    assert modes["combined"]["mtmc_idf1"] > modes["local"]["mtmc_idf1"]
    on_plan = {m: modes[m]["unique_visitors"] + modes[m]["visitors_held_back"] for m in modes}
    assert on_plan["combined"] < on_plan["local"]
    # 60 frames are 8.6 s: a track of one camera alone is too short to count as a visitor
    # (cloud.stitch.visitors.MIN_VISITOR_S); stitched across both views a person counts
    assert modes["local"]["unique_visitors"] == 0 < modes["combined"]["unique_visitors"]
    assert group["mtmc_idf1"] == modes["combined"]["mtmc_idf1"] > 0.5
    assert abs(group["unique_visitors"] - group["true_visitors"]) <= 3
    for line in group["lines"]:
        assert line["count_error"] == (
            line["system_in"] + line["system_out"] - line["true_in"] - line["true_out"]
        )


def test_boxes_match_one_to_one_at_half_overlap() -> None:
    gt = np.array([[0, 0, 10, 20], [100, 0, 10, 20]], float)  # left, top, width, height
    boxes = np.array([[1, 1, 11, 21], [0, 0, 10, 20], [100, 12, 110, 32]], float)  # xyxy
    assert _match(gt, boxes) == [(0, 1)]  # the exact box wins; 40 % overlap is no match


def test_a_reentry_is_recognised_only_with_the_earlier_visitor() -> None:
    fps = 7.0
    back_as_a = [(f, "a") for f in range(1, 30)] + [(f, "a") for f in range(60, 80)]
    back_as_b = [(f, "a") for f in range(1, 30)] + [(f, "b") for f in range(60, 80)]
    brief_gap = [(f, "a") for f in range(1, 30)] + [(f, "c") for f in range(32, 40)]
    assert _reentries({1: back_as_a, 2: back_as_b, 3: brief_gap}, fps) == (2, 1)


def test_stitching_errors_are_told_apart() -> None:
    fps = 7.0
    # person 1: one visit split between a and b (b over a second), then a re-entry as c
    one = [(f, "a") for f in range(1, 30)] + [(f, "b") for f in range(30, 40)]
    one += [(f, "c") for f in range(60, 80)]
    # person 2: in visitor a for 20 frames (a joins two people), and 3 frames of d (a glimpse)
    two = [(f, "a") for f in range(100, 120)] + [(f, "d") for f in range(120, 123)]
    splits, joined, boxes = _errors({1: one, 2: two}, fps)
    assert splits == 1  # b splits person 1's first visit; c is a re-entry, d under a second
    assert (joined, boxes) == (1, 20)  # a holds person 1 (29 boxes) and person 2 (20)


def test_a_group_camera_not_in_the_site_is_one_sentence(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    site = REPO / "configs" / "sites" / "pets_plaza.yaml"
    manifest.write_text(
        "name: m\nmulti_camera:\n  - name: g\n"
        f"    site: {site}\n    cameras:\n      - {{camera: pets-view1, gt: {site}}}\n"
        "      - {camera: nowhere, gt: " + str(site) + "}\n"
    )
    from footfall.evaluation.multicam import _site

    m = load_manifest(manifest)
    with pytest.raises(ManifestError, match=r"camera 'nowhere' is not in .*; valid: pets-view1"):
        _site(m, m.multi_camera[0])
    manifest.write_text("name: m\nmulti_camera:\n  - name: g\n    site: x.yaml\n    cameras: []\n")
    with pytest.raises(ManifestError, match=r"multi_camera\.0\.cameras"):
        load_manifest(manifest)
