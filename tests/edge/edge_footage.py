"""Paths to the shared evaluation footage and models (never copied into the repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared").resolve()
SHARED_DATA = SHARED / "data"
PETS_VIDEO = SHARED_DATA / "pets2009_s2l1" / "video" / "View_001_vtest.avi"
PETS_GT = SHARED_DATA / "pets2009_s2l1" / "gt" / "mot15_gt.txt"
CAMPUS_VIDEO = SHARED_DATA / "mot15" / "TUD-Campus" / "TUD-Campus.mp4"
CAMPUS_GT = SHARED_DATA / "mot15" / "TUD-Campus" / "gt" / "gt.txt"
OSNET_ONNX = Path(__file__).parents[2] / "../shared/models/osnet_x0_25_msmt17.onnx"
DEMO_SITE = REPO / "configs" / "sites" / "demo.yaml"

needs_pets = pytest.mark.skipif(not PETS_VIDEO.exists(), reason=f"{PETS_VIDEO} not present")
needs_campus = pytest.mark.skipif(not CAMPUS_VIDEO.exists(), reason=f"{CAMPUS_VIDEO} not present")
needs_osnet = pytest.mark.skipif(not OSNET_ONNX.exists(), reason=f"{OSNET_ONNX} not present")
