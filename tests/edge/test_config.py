"""Edge config: strict YAML, relative weights paths, one-sentence errors, consistent times."""

from __future__ import annotations

from pathlib import Path

import pytest
from edge_footage import REPO

from edge.config import EdgeConfig, EdgeConfigError, load_edge_config


def test_the_shipped_default_file_is_the_built_in_default() -> None:
    assert load_edge_config(REPO / "configs" / "edge" / "default.yaml") == EdgeConfig()
    assert EdgeConfig().tracker.use_cmc is False


def test_weights_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "edge.yaml"
    path.write_text("reid:\n  backend: osnet_onnx\n  weights: ../models/osnet.onnx\n")
    assert load_edge_config(path).reid.weights == (tmp_path / "models" / "osnet.onnx").resolve()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("detector:\n  imgsz: 640\n", r"detector.imgsz: Extra inputs are not permitted"),
        ("detector:\n  backend: tensorrt\n", r"detector.backend: Input should be 'torch'"),
        ("tracklets:\n  end_after_s: 2\n", r"must exceed the time a lost track can still come"),
        ("detector: [1, 2\n", r"cannot be read"),
    ],
)
def test_mistakes_are_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(text)
    with pytest.raises(EdgeConfigError, match=message) as info:
        load_edge_config(path)
    assert "\n" not in str(info.value)
