"""Normal runs print nothing a user must ignore."""

from __future__ import annotations

import subprocess
import sys


def test_the_default_reid_model_loads_without_a_pkg_resources_warning() -> None:
    code = (
        "from edge.reid.mobilenet_hist import MobilenetHistEmbedder; "
        "MobilenetHistEmbedder(runtime='torch')"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, check=True
    )
    assert "pkg_resources" not in done.stderr, done.stderr
