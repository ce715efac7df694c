"""``footfall edge run``: wire a site's cameras, the shared models and a sink into an EdgeNode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from edge.config import EdgeConfig
from edge.detection_backends import build_camera_detector
from edge.detection_file import is_detection_file
from edge.frames import FrameSource
from edge.metrics import NodeMetrics
from edge.node import EdgeNode
from edge.pipeline import Engine, Identity, camera_pipeline
from edge.reid import ReidError, build_embedder
from edge.sink import Sink
from edge.sources import BOUNDED_STREAM_ATTEMPTS, SourceError, is_stream, open_source
from edge.streams import StreamSource
from footfall.contract import new_run_id
from footfall.site import Site


def run_node(
    site: Site,
    node_id: str,
    config: EdgeConfig,
    sink: Sink,
    *,
    camera_ids: Sequence[str] = (),
    realtime: bool = True,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = print,
    metrics: NodeMetrics | None = None,
    overlap: bool = True,
) -> int:
    """Run until every file source ends or ``stop`` is set (SIGTERM/Ctrl-C); frames processed.

    Cameras whose source cannot be opened are reported and skipped; the others run. Streams, and
    file sources when ``realtime``, are paced: the node keeps their newest frame and skips the
    others when it cannot keep up. The sink is flushed at the end but not closed (its owner
    closes it). ``overlap``: run the detector of one step while the previous is tracked.
    """
    cameras = [c for c in site.cameras if not camera_ids or c.id in camera_ids]
    unknown = sorted(set(camera_ids) - {c.id for c in site.cameras})
    if unknown:
        valid = ", ".join(c.id for c in site.cameras)
        raise SourceError(f"Camera(s) {', '.join(unknown)} not in the site; valid ids: {valid}.")
    embedder = build_embedder(config.reid)
    if embedder is None:
        raise ReidError(
            "edge run needs Re-ID embeddings (tracklet_end messages carry one); set reid.backend "
            "to mobilenet_hist, osnet_onnx or osnet_torchreid."
        )
    identity = Identity(site.site.id, node_id, new_run_id())
    sources: dict[str, tuple[FrameSource, bool]] = {}
    failed: dict[str, str] = {}
    for camera in cameras:
        try:
            source = open_source(
                camera.source,
                camera.id,
                fps=camera.fps,
                realtime=realtime,
                max_frames=max_frames,
                resolution=camera.resolution,
                min_score=config.detector.confidence,
            )
        except SourceError as exc:
            log(f"  {camera.id:<20} FAILED  {exc}")
            failed[camera.id] = str(exc)
            continue
        paced = realtime or is_stream(camera.source)  # keeps its newest frame, held to its fps
        sources[camera.id] = (source, paced)
        down = source.probe() if isinstance(source, StreamSource) else None
        if down is None:
            log(f"  {camera.id:<20} ok      {camera.source}")
        else:
            retries = (
                f"gives up after {BOUNDED_STREAM_ATTEMPTS} attempts (--max-frames)"
                if max_frames is not None
                else "retried until it answers"
            )
            log(f"  {camera.id:<20} UNREACHABLE  {down} ({retries}; heartbeat offline)")
    if not sources:
        raise SourceError(f"No camera of site {site.site.id} could be opened; see the lines above.")
    pipelines = {
        c.id: camera_pipeline(
            config,
            c.id,
            sources[c.id][0].fps,
            embedder=embedder,
            identity=identity,
            camera=c,
            pixels=getattr(sources[c.id][0], "pixels", True),  # False: a detection file
        )
        for c in cameras
        if c.id in sources
    }
    footage = [c.source for c in site.cameras if not is_detection_file(c.source)]
    detector = build_camera_detector(config, footage, {c.id: c for c in cameras})
    engine = Engine(detector, embedder, pipelines, config.reid.batch_size)
    stop = stop or threading.Event()
    restore: Callable[[], None] = lambda: None  # noqa: E731
    if threading.current_thread() is threading.main_thread():
        from edge.publish import install_stop_handlers

        restore = install_stop_handlers(stop)
    node = EdgeNode(
        identity.site_id,
        node_id,
        identity.run_id,
        engine,
        sources,
        sink,
        heartbeat_interval_s=config.heartbeat_interval_s,
        max_batch=config.max_batch_cameras,
        max_latency_s=config.max_latency_s,
        failed=failed,
        metrics=metrics,
        overlap=overlap,
    )
    try:
        return node.run(stop)
    finally:
        restore()
