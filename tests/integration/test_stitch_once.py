"""``footfall cloud stitch --once`` says what its pass did, even when there was nothing to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_a_pass_with_nothing_to_stitch_says_so(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "cloud", "stitch", "--once",
         "--database-url", database_url, "--site", str(REPO / "configs/sites/demo.yaml")],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "stitched site=demo mode=combined decided=0 visitors=0" in out
    assert "Traceback" not in out
