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


def test_appearance_gates_follow_the_embedder_unless_given() -> None:
    offline = EdgeConfig().tracker  # the default embedder: mobilenet_parts
    assert (offline.appearance_thresh, offline.appearance_veto) == (0.35, 0.45)
    older = EdgeConfig.model_validate({"reid": {"backend": "mobilenet_hist"}}).tracker
    assert (older.appearance_thresh, older.appearance_veto) == (0.12, 0.0)
    osnet = EdgeConfig.model_validate({"reid": {"backend": "osnet_onnx"}}).tracker
    assert (osnet.appearance_thresh, osnet.appearance_veto) == (0.3, 0.5)
    given = EdgeConfig.model_validate(
        {"reid": {"backend": "osnet_onnx"}, "tracker": {"appearance_veto": 0.0}}
    ).tracker
    assert (given.appearance_thresh, given.appearance_veto) == (0.3, 0.0)
    evaluation = load_edge_config(REPO / "configs" / "edge" / "osnet-eval.yaml").tracker
    assert (evaluation.appearance_thresh, evaluation.appearance_veto) == (0.3, 0.5)
