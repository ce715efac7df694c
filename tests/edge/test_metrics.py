"""The edge node's Prometheus metrics: values, drop deltas, spool gauges, the HTTP endpoint."""

from __future__ import annotations

import socket
import urllib.request
from types import SimpleNamespace

from edge.metrics import NodeMetrics


def test_dropped_frames_add_up_the_drops_of_each_heartbeat_interval() -> None:
    # Each heartbeat reports the frames dropped in its own interval, never a running total.
    metrics = NodeMetrics()
    metrics.observe_camera("cam-a", fps=9.5, dropped=3)
    metrics.observe_camera("cam-a", fps=10.0, dropped=0)  # nothing dropped this interval
    metrics.observe_camera("cam-a", fps=8.0, dropped=2)
    metrics.observe_camera("cam-b", fps=8.0, dropped=1)
    value = metrics.registry.get_sample_value
    assert value("footfall_edge_dropped_frames_total", {"camera": "cam-a"}) == 5
    assert value("footfall_edge_dropped_frames_total", {"camera": "cam-b"}) == 1
    assert value("footfall_edge_fps", {"camera": "cam-a"}) == 8.0


def test_capture_to_publish_latency_is_a_histogram_per_camera() -> None:
    metrics = NodeMetrics()
    metrics.observe_frame("cam-a", latency_s=0.3)
    metrics.observe_frame("cam-a", latency_s=2.0)
    metrics.observe_frame("cam-b")  # no latency known: counted, not observed
    value = metrics.registry.get_sample_value
    assert value("footfall_edge_frames_total", {"camera": "cam-a"}) == 2
    assert value("footfall_edge_latency_seconds_count", {"camera": "cam-a"}) == 2
    assert value("footfall_edge_latency_seconds_bucket", {"camera": "cam-a", "le": "0.05"}) == 0
    assert value("footfall_edge_latency_seconds_bucket", {"camera": "cam-a", "le": "0.5"}) == 1
    assert value("footfall_edge_latency_seconds_bucket", {"camera": "cam-a", "le": "60.0"}) == 2
    assert value("footfall_edge_latency_seconds_count", {"camera": "cam-b"}) is None


def test_spool_gauges_read_the_publisher_counters_and_ignore_other_sinks() -> None:
    metrics = NodeMetrics()
    metrics.observe_sink(SimpleNamespace(pending=42, spool_bytes=4096, dropped=7))
    value = metrics.registry.get_sample_value
    assert value("footfall_edge_spool_pending_messages") == 42
    assert value("footfall_edge_spool_bytes") == 4096
    assert value("footfall_edge_spool_dropped_messages") == 7
    metrics.observe_sink(object())  # a sink without a spool changes nothing
    assert value("footfall_edge_spool_pending_messages") == 42


def test_metrics_are_served_over_http_on_loopback() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics = NodeMetrics()
    metrics.serve(port)
    metrics.observe_frame("cam-b")
    metrics.observe_batch(frames=2, seconds=0.08)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'footfall_edge_frames_total{camera="cam-b"} 1.0' in text
    assert "footfall_edge_inference_seconds_bucket" in text
