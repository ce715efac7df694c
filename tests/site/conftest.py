"""Shared fixtures for the site-model tests (fixtures only: test modules import nothing here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"  # /work/shared/data, relative to the repository root

MINIMAL = """\
site:
  id: tiny
  name: Tiny site
  timezone: Europe/London
floors:
  - id: l0
    name: Ground floor
    level: 0
    width_m: 30
    depth_m: 20
cameras:
  - id: cam-a
    floor: l0
    source: videos/cam-a.mp4
    fps: 25
    resolution: [1280, 720]
    homography:
      points:
        - {image: [100, 700], floor: [2, 12]}
        - {image: [1180, 700], floor: [8, 12]}
        - {image: [1000, 300], floor: [8, 4]}
        - {image: [280, 300], floor: [2, 4]}
"""


@pytest.fixture
def minimal() -> str:
    """A valid site: camera 'cam-a' starts on line 12 (``- id``), its fps is on line 15."""
    return MINIMAL


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """Write text to a YAML file in a temporary folder and return its path."""

    def write(text: str, name: str = "site.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def shared_data() -> Callable[..., Path]:
    """Return a path under /work/shared/data, skipping the test when it is absent."""

    def get(*parts: str) -> Path:
        path = DATA.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"shared data folder not available: {path.resolve()}")
        return path

    return get
