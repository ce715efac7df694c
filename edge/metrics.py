"""Prometheus metrics of an edge node: fps and latency per camera, inference time, spool, drops.

Only this module imports ``prometheus_client``. Each node has its own registry, served on
loopback by ``serve`` (``footfall edge run --metrics-port``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class NodeMetrics:
    """The node's metrics; the node calls the ``observe_*`` methods, Prometheus scrapes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.frames = Counter(
            "footfall_edge_frames", "Frames processed.", ["camera"], registry=self.registry
        )
        self.fps = Gauge(
            "footfall_edge_fps", "Frames/s over the last heartbeat interval.", ["camera"],
            registry=self.registry,
        )  # fmt: skip
        self.dropped = Counter(
            "footfall_edge_dropped_frames",
            "Frames not processed: skipped to stay real time or during an error backoff.",
            ["camera"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "footfall_edge_latency_seconds",
            "Capture-to-publish latency of each processed frame.",
            ["camera"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=self.registry,
        )
        self.inference = Histogram(
            "footfall_edge_inference_seconds",
            "Wall time of one batched pass (detection, tracking, Re-ID) over all its frames.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.batch_frames = Histogram(
            "footfall_edge_batch_frames", "Frames per batched pass.",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry,
        )  # fmt: skip
        self.spool_pending = Gauge(
            "footfall_edge_spool_pending_messages", "Messages waiting in the on-disk spool.",
            registry=self.registry,
        )  # fmt: skip
        self.spool_bytes = Gauge(
            "footfall_edge_spool_bytes", "Bytes in the on-disk spool.", registry=self.registry
        )
        self.spool_dropped = Gauge(
            "footfall_edge_spool_dropped_messages",
            "Messages dropped because the spool was full (since start).",
            registry=self.registry,
        )

    def observe_batch(self, frames: int, seconds: float) -> None:
        self.inference.observe(seconds)
        self.batch_frames.observe(frames)

    def observe_frame(self, camera_id: str, latency_s: float | None = None) -> None:
        """A processed frame and its capture-to-publish latency."""
        self.frames.labels(camera=camera_id).inc()
        if latency_s is not None:
            self.latency.labels(camera=camera_id).observe(max(0.0, latency_s))

    def observe_camera(self, camera_id: str, fps: float, dropped: int) -> None:
        """At each heartbeat: the interval's fps and the frames dropped in that interval.

        ``dropped`` is the heartbeat's own ``dropped_frames`` (this interval only, not a running
        total), so the counter is the sum of what the camera's heartbeats report.
        """
        self.fps.labels(camera=camera_id).set(fps)
        if dropped > 0:
            self.dropped.labels(camera=camera_id).inc(dropped)

    def observe_sink(self, sink: object) -> None:
        """Spool figures of sinks that have them (the Kafka publisher); others are ignored."""
        for gauge, attribute in (
            (self.spool_pending, "pending"),
            (self.spool_bytes, "spool_bytes"),
            (self.spool_dropped, "dropped"),
        ):
            value = getattr(sink, attribute, None)
            if isinstance(value, int | float):
                gauge.set(value)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a background thread."""
        start_http_server(port, addr=host, registry=self.registry)
