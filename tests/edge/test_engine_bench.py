"""``footfall edge bench``: bad input is one sentence; the search over stream counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from edge_footage import PETS_VIDEO, needs_pets

from edge.engine.bench import search_streams
from footfall.cli import main


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--streams", "0"], "--streams 0 must be at least 1 camera stream."),
        (["--duration-s", "0"], "--duration-s 0.0 must be a positive number of seconds."),
        (["--source", "no/such.mp4"], "no/such.mp4 is not a readable file; give --source VIDEO"),
    ],
)
def test_bad_bench_input_is_one_sentence(args: list[str], sentence: str) -> None:
    result = CliRunner().invoke(main, ["edge", "bench", *args, "--json", "/dev/null"])
    assert result.exit_code == 1, result.output
    assert sentence in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_cuda_without_a_gpu_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = CliRunner().invoke(main, ["edge", "bench", "--device", "cuda"])
    assert result.exit_code == 1
    assert "--device cuda: torch sees no CUDA device on this machine; use --device cpu." in (
        result.output
    )


def _node_that_holds(capacity: int, tried: list[int]) -> Any:
    def run(n: int) -> dict[str, Any]:
        tried.append(n)
        return {"streams": n, "held": n <= capacity, "fps_per_stream_min": 15.0,
                "latency_p99_s": 0.5}  # fmt: skip

    return run


@pytest.mark.parametrize("capacity", [0, 1, 5, 37, 100, 600])
def test_the_search_finds_the_largest_count_held(capacity: int) -> None:
    tried: list[int] = []
    best, runs = search_streams(_node_that_holds(capacity, tried), start=8, limit=512)
    exact = min(capacity, 512)
    assert exact - exact // 8 <= best <= exact  # within an eighth of the answer
    assert len(tried) == len(set(tried)) == len(runs) <= 12
    if capacity < 512:
        assert any(n > capacity for n in tried)  # a count not held was seen above the answer


def test_the_results_are_written_as_one_json_file(tmp_path: Path) -> None:
    from edge.engine.bench import write_results

    path = write_results({"device": "cuda:0", "max_streams_1080p_15fps": 3}, tmp_path / "x.json")
    assert path.read_text().count("max_streams_1080p_15fps") == 1


@needs_pets
def test_end_to_end_publishes_every_stream_with_its_latency(tmp_path: Path) -> None:
    """Two paced streams of a small clip through the whole chain, on CPU torch."""
    import cv2

    from edge.config import EdgeConfig
    from edge.engine.batched import BatchedPersonDetector, DeviceEmbedder, mobilenet_reid_network
    from edge.engine.bench import Node, end_to_end
    from edge.weights import verified_weights

    clip = tmp_path / "clip.avi"
    capture = cv2.VideoCapture(str(PETS_VIDEO))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 15, (384, 288))
    for _ in range(30):
        writer.write(cv2.resize(capture.read()[1], (384, 288)))
    writer.release()
    capture.release()
    node = Node(
        BatchedPersonDetector.from_weights(verified_weights(), image_size=320),
        DeviceEmbedder(mobilenet_reid_network(), width=64, height=64, model_name="mnv2"),
        EdgeConfig(),
        "opencv",
        workers=1,
    )
    result = end_to_end(node, clip, streams=2, duration_s=3.0)
    assert result["streams"] == 2 and result["errors"] == 0
    assert result["fps_per_stream_min"] > 0  # both cameras published inside the window
    assert result["messages"] >= result["frames_published"] > 0
    assert 0 < result["latency_p50_s"] <= result["latency_p99_s"]
    assert result["frames_dropped_by_decoders"] >= 0 and result["mean_batch"] >= 1
    assert result["cpu_percent_of_machine"] > 0 and result["gpu_percent"] is None
    assert result["held"] == (
        result["fps_per_stream_min"] >= 14.25 and result["latency_p99_s"] < 1.0
    )
