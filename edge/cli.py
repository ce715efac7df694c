"""``footfall edge …`` commands."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edge.detection_file import is_detection_file
from edge.sources import SourceError, read_frame
from edge.weights import sha256_of, verified_weights
from footfall.addresses import DEFAULT_BOOTSTRAP_SERVERS
from footfall.contract.messages import SLUG_PATTERN
from footfall.errors import Group, UserError
from footfall.site import Camera, load_site

if TYPE_CHECKING:
    from edge.config import EdgeConfig


class EdgeUsageError(UserError, ValueError):
    """An edge command's option is unusable; ``str()`` names the rule and the fix."""


@click.group(cls=Group)
def edge() -> None:
    """Edge node: footage → detection → tracking → floor positions → Kafka.

    Errors the user can fix (``footfall.errors.UserError``: sources, weights, configs, sinks …)
    are reported by the group as one sentence, exit 1.
    """


@edge.command()
@click.option(
    "--path",
    "weights_path",
    type=click.Path(path_type=Path),
    help="A weights file to check instead of the packaged YOLOv8n.",
)
@click.option("--sha256", help="Expected sha256 of --path (needs --path).")
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check the sha256 (the packaged file's known one, or --sha256).",
)
def weights(weights_path: Path | None, sha256: str | None, verify: bool) -> None:
    """Locate the detector weights and verify their sha256."""
    if sha256 is not None and weights_path is None:
        raise click.UsageError(
            "--sha256 is the expected hash of a weights file given with --path; the packaged "
            "YOLOv8n is checked against its own known hash, so give --path FILE too."
        )
    path = verified_weights(weights_path, sha256 if verify else None)
    state = "verified" if verify and (sha256 or weights_path is None) else "not verified"
    click.echo(f"detector weights: {path} (sha256 {sha256_of(path)[:16]}…, {state})")


@edge.command()
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Site config (configs/sites/*.yaml).",
)
@click.option(
    "--frame",
    "frame_index",
    type=int,
    default=0,
    show_default=True,
    help="Which frame of each source to test (0-based).",
)
@click.option(
    "--image-size",
    type=int,
    default=640,
    show_default=True,
    help="Detector input size, pixels (letterboxed).",
)
@click.option(
    "--confidence",
    type=float,
    default=0.25,
    show_default=True,
    help="Lowest detection score counted as a person.",
)
def check(site_file: str, frame_index: int, image_size: int, confidence: float) -> None:
    """Pre-flight check: open every camera's source and detect people on one frame of each.

    Sources that cannot be read are reported one line each; the other cameras are still checked.
    Exits 1 if any camera failed.
    """
    from edge.detection import YoloPersonDetector

    site = load_site(site_file)
    weights_file = verified_weights()
    detector = YoloPersonDetector(weights_file, image_size=image_size, confidence=confidence)
    failures = 0
    for camera in site.cameras:
        if is_detection_file(camera.source):
            failures += _check_detection_file(camera, frame_index, confidence)
            continue
        try:
            frame = read_frame(camera.source, camera.id, frame_index)
        except SourceError as exc:
            click.echo(f"  {camera.id:<20} FAILED  {exc}")
            failures += 1
            continue
        started = time.perf_counter()
        (found,) = detector.detect([frame])
        ms = (time.perf_counter() - started) * 1000
        h, w = frame.shape[:2]
        note = "" if (w, h) == tuple(camera.resolution) else f" (config says {camera.resolution})"
        click.echo(
            f"  {camera.id:<20} ok      {w}x{h}{note}, frame {frame_index}: "
            f"{len(found)} people detected in {ms:.0f} ms"
        )
    if failures:
        raise click.ClickException(f"{failures} of {len(site.cameras)} cameras failed the check.")


def _check_detection_file(camera: Camera, frame_index: int, confidence: float) -> int:
    """One line for a camera replayed from a detection file; 1 if it failed, else 0."""
    from edge.sources import DetectionFileSource

    try:
        source = DetectionFileSource(
            camera.source, camera.id, resolution=camera.resolution, fps=camera.fps,
            min_score=confidence,
        )  # fmt: skip
    except (SourceError, UserError) as exc:
        click.echo(f"  {camera.id:<20} FAILED  {exc}")
        return 1
    count = source.frame_count() or 0
    if not 0 <= frame_index < count:
        click.echo(
            f"  {camera.id:<20} FAILED  Camera {camera.id}: there is no frame {frame_index} in "
            f"{camera.source}: it has {count} frames; pick a frame from 0 to {count - 1}."
        )
        return 1
    found = source.detections.get(frame_index)
    people = 0 if found is None else len(found)
    click.echo(
        f"  {camera.id:<20} ok      detection file ({count} frames, no pixels), frame "
        f"{frame_index}: {people} people in the file"
    )
    return 0


# --------------------------------------------------------------------------- pipeline commands

_CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Edge config YAML (configs/edge/*.yaml); default: the built-in settings.",
)


def _load_config(config_file: Path | None) -> EdgeConfig:
    from edge.config import load_edge_config

    return load_edge_config(config_file)


def _calibration(site_file: str | None, video: str) -> list[str]:
    """Footage for INT8 calibration: every camera of the site (and the replayed video)."""
    if site_file is None:
        return [video]
    site = load_site(site_file)
    return sorted({c.source for c in site.cameras} | {video})


def _site_camera(site_file: str | None, camera_id: str) -> Camera | None:
    if site_file is None:
        return None
    site = load_site(site_file)
    for camera in site.cameras:
        if camera.id == camera_id:
            return camera
    valid = ", ".join(c.id for c in site.cameras)
    raise click.ClickException(f"Camera '{camera_id}' is not in {site_file}; valid ids: {valid}.")


def _replay_options(command: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.argument("video", type=str),
        click.option("--camera", "camera_id", required=True, help="Camera id (as in the site)."),
        click.option(
            "--site",
            "site_file",
            type=click.Path(dir_okay=False),
            help="Site config: the camera's fps and floor homography (floor positions).",
        ),
        _CONFIG_OPTION,
        click.option("--fps", type=float, help="Real capture rate (default: site, else file)."),
        click.option(
            "--fast/--realtime",
            default=True,
            show_default=True,
            help="Run as fast as possible, or pace frames at the capture rate.",
        ),
        click.option("--max-frames", type=int, help="Stop after this many frames."),
        click.option(
            "--start-time",
            type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"]),
            help="UTC capture time of frame 0, e.g. 2024-05-01T12:00:00+0000 (default: now); "
            "frame i is stamped start + i / fps.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@edge.command()
@_replay_options
@click.option(
    "--mot-out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="MOTChallenge result file to write (frame,id,x,y,w,h,conf,X,Y,-1; frames from 1).",
)
@click.option(
    "--gt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="MOTChallenge ground truth: print MOTA and IDF1 of the result.",
)
def replay(
    video: str,
    camera_id: str,
    site_file: str | None,
    config_file: Path | None,
    fps: float | None,
    fast: bool,
    max_frames: int | None,
    start_time: datetime | None,
    mot_out: Path,
    gt: Path | None,
) -> None:
    """Replay recorded footage (video file or img1/ folder) through the pipeline for evaluation."""
    from edge.evaluate import evaluate
    from edge.mot import MotWriter
    from edge.replay import replay as run_replay

    config = _load_config(config_file)
    camera = _site_camera(site_file, camera_id)
    replayed: list[int] = []  # MOT frame numbers (from 1): only their ground truth is scored
    with MotWriter(mot_out) as writer:
        summary = run_replay(
            video,
            camera_id,
            config,
            camera=camera,
            fps=fps,
            realtime=not fast,
            max_frames=max_frames,
            start_time=start_time,
            on_result=[
                lambda r: writer.write(r.frame.index, r.tracks, r.floor_xy),
                lambda r: replayed.append(r.frame.index + 1),
            ],
            calibration=_calibration(site_file, video),
        )
    click.echo(
        f"{camera_id}: {summary.frames} frames in {summary.seconds:.1f} s "
        f"({summary.fps:.1f} fps), {summary.tracks} tracks → {mot_out}"
    )
    if summary.reid_boxes is not None:
        boxes = summary.reid_boxes
        click.echo(
            f"{camera_id}: Re-ID embedded {boxes['computed']} boxes, {boxes['reused']} carried "
            f"their track's embedding, {boxes['skipped']} low-score boxes needed none"
        )
    if gt is not None:
        scores = evaluate(mot_out, gt, replayed)
        click.echo(f"{camera_id}: {scores.line()} (the {len(replayed)} frames replayed)")


@edge.command()
@_replay_options
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Annotated video to write (.mp4 or .avi); heads are blurred.",
)
@click.option(
    "--head-fraction",
    type=click.FloatRange(0.05, 0.6),
    default=0.2,
    show_default=True,
    help="Top share of each person's box that is blurred as the head.",
)
def annotate(
    video: str,
    camera_id: str,
    site_file: str | None,
    config_file: Path | None,
    fps: float | None,
    fast: bool,
    max_frames: int | None,
    start_time: datetime | None,
    out_file: Path,
    head_fraction: float,
) -> None:
    """Write an annotated video (boxes, track numbers) with every person's head blurred."""
    from edge.annotate import AnnotatedVideoWriter
    from edge.replay import replay as run_replay

    config = _load_config(config_file)
    camera = _site_camera(site_file, camera_id)
    writer = AnnotatedVideoWriter(out_file, fps or (camera.fps if camera else 25.0), head_fraction)
    try:
        summary = run_replay(
            video,
            camera_id,
            config,
            camera=camera,
            fps=fps,
            realtime=not fast,
            max_frames=max_frames,
            start_time=start_time,
            on_result=[writer],
            calibration=_calibration(site_file, video),
        )
    finally:
        writer.close()
    click.echo(f"{camera_id}: {summary.frames} frames, {summary.tracks} tracks → {out_file}")


@edge.command()
@click.argument("pairs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--max-frames",
    type=click.IntRange(min=1),
    help="Score only frames 1 … N of the ground truth (a result of `replay --max-frames N`); "
    "default: every frame either file mentions.",
)
def evaluate(pairs: tuple[Path, ...], max_frames: int | None) -> None:
    """MOTA / IDF1 of MOT result files against ground truth: RESULT GT [RESULT GT …]."""
    from edge.evaluate import evaluate as score

    if len(pairs) % 2:
        raise click.ClickException("Give result and ground-truth files in pairs: RESULT GT ….")
    frames = range(1, max_frames + 1) if max_frames is not None else None
    for result, gt in zip(pairs[::2], pairs[1::2], strict=True):
        click.echo(f"{result}: {score(result, gt, frames).line()}")


@edge.command()
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Site config (configs/sites/*.yaml): its cameras are the node's.",
)
@click.option(
    "--node",
    "node_id",
    required=True,
    help="This node's id, sent in messages: lower-case letters, digits, '-' and '_' "
    "(starting with a letter or digit, at most 63).",
)
@_CONFIG_OPTION
@click.option(
    "--camera",
    "camera_ids",
    multiple=True,
    help="Only these cameras (repeatable); default every camera of the site.",
)
@click.option(
    "--sink",
    "sink_name",
    type=click.Choice(["kafka", "jsonl", "memory"]),
    default="kafka",
    show_default=True,
    help="kafka: the broker through the on-disk spool; jsonl: JSON lines to --out or stdout.",
)
@click.option(
    "--bootstrap-servers",
    envvar="FOOTFALL_BOOTSTRAP_SERVERS",
    default=DEFAULT_BOOTSTRAP_SERVERS,
    show_default=True,
    help="Broker host:port (env FOOTFALL_BOOTSTRAP_SERVERS).",
)
@click.option(
    "--spool-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".run/edge-spool"),
    show_default=True,
    help="Folder of the kafka sink's durable spool (messages wait here while the broker is "
    "away); the node's spool is DIR/NODE.",
)
@click.option(
    "--drain-timeout",
    "drain_timeout_s",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="On exit, wait up to this many seconds for the broker to take the messages still in "
    "the spool; what it has not taken by then stays in the spool for the next start.",
)
@click.option(
    "--topic-namespace",
    default="",
    help="Prefix of the topic names the kafka sink publishes to (NS.<topic>), as ingest's "
    "--topic-namespace reads them; default: the contract's topic names.",
)
@click.option(
    "--out",
    "jsonl_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File the jsonl sink appends to (default: stdout).",
)
@click.option("--fast/--realtime", default=False, show_default=True, help="Pacing of file sources.")
@click.option("--max-frames", type=int, help="Stop each camera after this many frames.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (fps per camera, inference "
    "latency, spool depth, dropped frames); 0: off.",
)
def run(
    site_file: str,
    node_id: str,
    config_file: Path | None,
    camera_ids: tuple[str, ...],
    sink_name: str,
    bootstrap_servers: str,
    spool_dir: Path,
    drain_timeout_s: float,
    topic_namespace: str,
    jsonl_path: Path | None,
    fast: bool,
    max_frames: int | None,
    metrics_port: int,
) -> None:
    """Run the edge node: the site's cameras → detection, tracking, Re-ID, floor → the sink."""
    if not re.fullmatch(SLUG_PATTERN, node_id):
        raise EdgeUsageError(
            f"--node {node_id!r} is not a valid node id: use lower-case letters, digits, '-' "
            "and '_', starting with a letter or digit, at most 63 characters (e.g. node-1)."
        )
    if not re.fullmatch(r"[A-Za-z0-9._-]{0,200}", topic_namespace):
        raise EdgeUsageError(
            f"--topic-namespace {topic_namespace!r} cannot prefix a Kafka topic name: use "
            "letters, digits, '.', '_' and '-' only (at most 200)."
        )
    from edge.metrics import NodeMetrics
    from edge.run import run_node
    from edge.sinks import SinkOptions, build_sink

    config = _load_config(config_file)
    metrics = NodeMetrics()
    if metrics_port:
        try:
            metrics.serve(metrics_port)
        except OSError as exc:
            raise click.ClickException(
                f"Cannot serve metrics on 127.0.0.1:{metrics_port} ({exc.strerror}); pick another "
                "--metrics-port or 0 to turn metrics off."
            ) from None
        click.echo(f"metrics: http://127.0.0.1:{metrics_port}/metrics", err=True)
    site = load_site(site_file)
    sink = build_sink(
        sink_name,
        SinkOptions(
            node_id,
            bootstrap_servers,
            spool_dir / node_id,
            jsonl_path,
            topic_namespace,
            drain_timeout_s=drain_timeout_s,
        ),
    )
    try:
        processed = run_node(
            site,
            node_id,
            config,
            sink,
            camera_ids=camera_ids,
            realtime=not fast,
            max_frames=max_frames,
            log=lambda line: click.echo(line, err=True),
            metrics=metrics,
        )
    finally:
        sink.close()
    click.echo(f"node {node_id}: {processed} frames processed", err=True)


@edge.command()
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Site config: INT8 calibration uses frames of every one of its cameras.",
)
@_CONFIG_OPTION
def optimize(site_file: str, config_file: Path | None) -> None:
    """Prepare the site's detector and Re-ID models for fast CPU inference, once.

    Exports the detector to OpenVINO, quantizes it to INT8 calibrated on frames of the site's
    own cameras (detector.precision int8; detector.calibration_frames frames), converts the
    Re-ID network, and caches all of them (later runs start in seconds). Prints what was made,
    where, and the detector's time per frame at FP32 and at the configured precision.
    """
    from edge.detection_backends import build_detector
    from edge.reid import build_embedder

    config = _load_config(config_file)
    site = load_site(site_file)
    sources = sorted({c.source for c in site.cameras if not is_detection_file(c.source)})
    frames = []
    for camera in site.cameras:
        if is_detection_file(camera.source):
            continue  # no pixels: nothing to detect or embed
        try:
            frames.append(read_frame(camera.source, camera.id, 0))
        except SourceError as exc:
            click.echo(f"  {camera.id:<20} skipped: {exc}")
    started = time.perf_counter()
    detector = build_detector(config.detector, sources)
    made = time.perf_counter() - started
    click.echo(
        f"detector: {config.detector.backend} {config.detector.precision} at "
        f"{config.detector.image_size} px, ready in {made:.1f} s (cached under "
        f"{config.detector.cache_dir or '~/.cache/footfall/detectors'})"
    )
    figures = [(config.detector.precision, detector)]
    if config.detector.precision != "fp32" and config.detector.backend == "openvino":
        fp32 = config.detector.model_copy(update={"precision": "fp32"})
        figures.insert(0, ("fp32", build_detector(fp32, sources)))
    for name, det in figures:
        for frame in frames:
            det.detect([frame])  # first call per input shape compiles
        started = time.perf_counter()
        for _ in range(5):
            for frame in frames:
                det.detect([frame])
        ms = (time.perf_counter() - started) * 1000 / max(1, 5 * len(frames))
        click.echo(f"  {name:<5} {ms:6.1f} ms per frame (mean over the site's cameras)")
    started = time.perf_counter()
    embedder = build_embedder(config.reid)
    if embedder is not None:
        click.echo(
            f"re-id: {config.reid.backend} ({embedder.model_name}) on "
            f"{getattr(embedder, 'runtime', config.reid.runtime)}, "
            f"ready in {time.perf_counter() - started:.1f} s"
        )


@edge.command()
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Site YAML to set up (its cameras may have no homography yet).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where Save writes the site YAML [default: the --site file; comments are not kept].",
)
@_CONFIG_OPTION
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the page shows camera pixels, so keep it on the node's loopback "
    "(reach it through an SSH tunnel) unless the network is the installer's own.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8765,
    show_default=True,
    help="TCP port of the page.",
)
def setup(
    site_file: Path, out_file: Path | None, config_file: Path | None, host: str, port: int
) -> None:
    """Serve the site set-up page for this node's cameras: snapshots with heads blurred beside
    the floor plan, point pairs clicked or imported from an OpenCV calibration, reprojection
    error, field of view and people's feet on the plan, zones and counting lines; Save writes
    the site YAML only when footfall validate-config accepts it."""
    from edge.detection_backends import build_detector
    from edge.setup.draft import SiteDraft
    from edge.setup.server import SetupApp, make_server

    config = _load_config(config_file)
    draft = SiteDraft(site_file, out_file)
    app = SetupApp(draft, lambda: build_detector(config.detector, draft.footage()))
    try:
        server = make_server(app, host, port)
    except OSError as exc:
        raise EdgeUsageError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port."
        ) from None
    click.echo(
        f"site set-up page for {site_file} on http://{host}:{port}/ (Save writes {draft.out}); "
        "Ctrl-C to stop"
    )

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (systemd, kill) ends it as Ctrl-C does

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("site set-up page stopped")
    finally:
        server.server_close()


@edge.command()
@click.option(
    "--streams", type=int, default=1, show_default=True, help="Camera streams in the first run."
)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where the engine runs (FP16 on cuda, FP32 on cpu).",
)
@click.option(
    "--duration-s",
    type=float,
    default=10.0,
    show_default=True,
    help="Measured seconds of each end-to-end run (after a short warm-up).",
)
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="Search for the largest stream count held at 15 fps with p99 latency under 1 s.",
)
@click.option(
    "--search-max", type=int, help="Most streams the search tries (default 512 cuda, 8 cpu)."
)
@click.option(
    "--decoder",
    type=click.Choice(["opencv", "nvdec"]),
    default="opencv",
    show_default=True,
    help="Decode on the CPU (OpenCV) or the GPU's NVDEC (PyNvVideoCodec; OpenCV without it).",
)
@click.option(
    "--source",
    type=click.Path(path_type=Path),
    default=Path("../shared/data/pets2009_s2l1/video/View_001_vtest.avi"),
    show_default=True,
    help="Real footage re-encoded once to the 1080p H.264 clip every stream replays.",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write every figure (default bench/results/edge_bench_<device>.json).",
)
def bench(
    streams: int,
    device: str,
    duration_s: float,
    search: bool,
    search_max: int | None,
    decoder: str,
    source: Path,
    json_file: Path | None,
) -> None:
    """How many 1080p cameras this node carries at 15 fps: decode, batched detection, Re-ID,
    tracking and messages, end to end; the detector alone; latency, CPU and GPU use."""
    from edge.engine.bench import run_bench, write_results

    results = run_bench(
        streams=streams,
        device=device,
        duration_s=duration_s,
        source=source,
        search=search,
        search_max=search_max,
        decoder="nvdec" if decoder == "nvdec" else "opencv",
        echo=click.echo,
        progress=lambda partial: write_results(partial, json_file),
    )
    click.echo(f"figures written to {write_results(results, json_file)}")
