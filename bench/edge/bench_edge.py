"""Edge speed and accuracy together, in one process, on the same footage (``make bench-edge``).

    python bench/edge/bench_edge.py [--steps all|baseline,default,…] [--max-frames N]
                                    [--cameras 4,8] [--cameras-frames 150] [--json FILE]

Rows, each run end to end on PETS09-S2L1 (795 frames, 768x576, 7 fps) and TUD-Stadtmitte
(179 frames, 640x480, 25 fps) from ``../shared/data``, one after the other:

* ``baseline``: a plain ultralytics + boxmot loop as a newcomer would write it (YOLOv8n
  ``predict`` at 640 px, person class, BoT-SORT with boxmot's defaults, no Re-ID, no camera-motion
  compensation), decoding inline;
* the project's edge node (``edge.run.run_node``: decode threads, detection, Re-ID, BoT-SORT,
  floor projection, contract messages into an in-memory sink) with the settings of each
  optimisation step, ending with ``default`` (the shipped defaults):
  ``before`` (what the node shipped before: PyTorch at 960 px, Re-ID on every box, one stage
  after the other), ``openvino-fp32`` (OpenVINO runtime at 640 px), ``int8`` (+ INT8
  detector), ``reid-on-demand`` (+ Re-ID only where it pays), ``overlapped`` (+ detector and
  tracking overlapped on two threads: the defaults before the accuracy pass), ``mobilenet-hist``
  (+ a strict appearance gate, every confident box embedded: the defaults before the part-based
  Re-ID feature), ``default`` (the shipped defaults: the part-based offline Re-ID feature
  ``mobilenet_parts`` with its appearance gate and veto).

For each row: frames/s and CPU-seconds per frame (all threads) in the steady state, from the first
frame finished to the last (model loading, exports and start-up stay outside), peak resident memory
during the row, MOTA / IDF1 (``edge.evaluate``: TrackEval, IoU >= 0.5) of the node's published frame
messages against the ground truth, and the ratio of frames/s to the baseline measured in this run.
Then the default settings with 4 and 8 cameras on one node (the two clips repeated), frames/s in
all, and the demo site's three cameras paced in real time (``--realtime-s``): frames processed and
skipped per camera, capture-to-publish latency, heartbeat status. Wall-clock figures depend on what
else the machine does: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data").resolve()
DEMO_SITE = REPO / "configs" / "sites" / "demo.yaml"


@dataclass(frozen=True)
class Sequence_:
    name: str
    camera: str
    video: Path
    gt: Path
    fps: float


SEQUENCES = [
    Sequence_(
        "PETS09-S2L1",
        "pets-view1",
        DATA / "pets2009_s2l1" / "video" / "View_001_vtest.avi",
        DATA / "pets2009_s2l1" / "gt" / "mot15_gt.txt",
        7.0,
    ),
    Sequence_(
        "TUD-Stadtmitte",
        "tud-stadtmitte",
        DATA / "mot15" / "TUD-Stadtmitte" / "TUD-Stadtmitte.mp4",
        DATA / "mot15" / "TUD-Stadtmitte" / "gt" / "gt.txt",
        25.0,
    ),
]

STEPS: dict[str, tuple[dict[str, Any], bool]] = {
    # name: (edge config overrides, overlap detector and tracking); the steps up to
    # ``overlapped`` keep the Re-ID feature (mobilenet_hist) and appearance gate (0.3) of then,
    # ``mobilenet-hist`` is the default before the part-based feature (gate 0.12, no veto)
    "before": (
        {"detector": {"backend": "torch", "precision": "fp32", "image_size": 960},
         "tracker": {"appearance_thresh": 0.3},
         "reid": {"backend": "mobilenet_hist", "refresh_s": 0}},
        False,
    ),
    "openvino-fp32": (
        {"detector": {"precision": "fp32"}, "tracker": {"appearance_thresh": 0.3},
         "reid": {"backend": "mobilenet_hist", "refresh_s": 0}},
        False,
    ),
    "int8": ({"tracker": {"appearance_thresh": 0.3},
              "reid": {"backend": "mobilenet_hist", "refresh_s": 0}}, False),
    "reid-on-demand": ({"tracker": {"appearance_thresh": 0.3},
                        "reid": {"backend": "mobilenet_hist", "refresh_s": 1.0}}, False),
    "overlapped": ({"tracker": {"appearance_thresh": 0.3},
                    "reid": {"backend": "mobilenet_hist", "refresh_s": 1.0}}, True),
    "mobilenet-hist": ({"reid": {"backend": "mobilenet_hist"}}, True),
    "default": ({}, True),
}  # fmt: skip


class PeakRss:
    """Samples this process's resident memory every 20 ms; ``peak`` in MiB since ``start``."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def now_mib() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def __enter__(self) -> PeakRss:
        self.peak = self.now_mib()

        def sample() -> None:
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, self.now_mib())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, self.now_mib())


@dataclass
class Row:
    name: str
    frames: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mib: float = 0.0
    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s else 0.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall and CPU time at the first and the last frame finished: the steady-state window
    (model loading, export and start-up stay outside; ``frames`` counts the frames after the
    first one)."""

    def __init__(self) -> None:
        self.first: tuple[float, float] | None = None
        self.last: tuple[float, float] | None = None
        self.frames = -1

    def tick(self) -> None:
        now = (time.perf_counter(), _cpu_s())
        if self.first is None:
            self.first = now
        self.last = now
        self.frames += 1

    @property
    def wall_s(self) -> float:
        return self.last[0] - self.first[0] if self.first and self.last else 0.0

    @property
    def cpu_s(self) -> float:
        return self.last[1] - self.first[1] if self.first and self.last else 0.0


class StampSink:
    """An in-memory sink that ticks a :class:`Clock` at every frame message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.clock = Clock()

    def publish(self, message: Any) -> None:
        from footfall.contract import FrameObservations

        if isinstance(message, FrameObservations):
            self.clock.tick()
        self.messages.append(message)

    def flush(self, timeout_s: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


def _score(
    rows: list[tuple[int, str, np.ndarray, float]], gt: Path, frames: int, out: Path
) -> dict[str, float]:
    """MOTA / IDF1 of ``rows`` against the ground truth of the first ``frames`` frames."""
    from edge.evaluate import evaluate

    numbers: dict[str, int] = {}
    with out.open("w") as f:
        for frame, track, box, conf in rows:
            n = numbers.setdefault(track, len(numbers) + 1)
            x1, y1, x2, y2 = box
            w, h = x2 - x1, y2 - y1
            f.write(f"{frame + 1},{n},{x1:.2f},{y1:.2f},{w:.2f},{h:.2f},{conf:.3f},-1,-1,-1\n")
    truth = out.with_suffix(".gt.txt")
    truth.write_text(
        "".join(line for line in gt.read_text().splitlines(keepends=True)
                if line.strip() and int(float(line.split(",")[0])) <= frames)
    )  # fmt: skip
    scores = evaluate(out, truth)
    return {"mota": scores.mota, "idf1": scores.idf1, "recall": scores.recall,
            "precision": scores.precision, "id_switches": scores.id_switches}  # fmt: skip


Run = Callable[["Sequence_"], tuple[int, list[Any], Clock]]


def run_baseline(seq: Sequence_, max_frames: int | None) -> tuple[int, list[Any], Clock]:
    """YOLOv8n predict at 640 + boxmot BoT-SORT defaults, no Re-ID, decoding inline."""
    import cv2
    from boxmot import BotSort
    from ultralytics import YOLO  # type: ignore[attr-defined]

    from edge.weights import verified_weights

    model = YOLO(str(verified_weights()), task="detect")
    # boxmot's defaults without Re-ID; camera-motion compensation off as for any fixed camera
    # (its ECC alignment would slow the baseline down and flatter the ratios).
    tracker = BotSort(use_embeddings=False, use_cmc=False, frame_rate=round(seq.fps))
    capture = cv2.VideoCapture(str(seq.video))
    rows: list[Any] = []
    clock = Clock()
    frame = 0
    while max_frames is None or frame < max_frames:
        ok, image = capture.read()
        if not ok:
            break
        result: Any = model.predict(image, imgsz=640, classes=[0], verbose=False)[0]
        boxes = result.boxes
        dets = np.column_stack([boxes.xyxy.numpy(), boxes.conf.numpy(), boxes.cls.numpy()])
        for t in tracker.update(dets.astype(np.float32).reshape(-1, 6), image):
            rows.append((frame, str(int(t[4])), t[:4], float(t[5])))
        clock.tick()
        frame += 1
    capture.release()
    return frame, rows, clock


def run_node_rows(
    seq: Sequence_, config: Any, overlap: bool, max_frames: int | None
) -> tuple[int, list[Any], Clock]:
    """The edge node on one camera of the demo site; rows from its published frame messages."""
    from edge.run import run_node
    from footfall.contract import FrameObservations
    from footfall.site import load_site

    site = load_site(DEMO_SITE)
    sink = StampSink()
    frames = run_node(
        site, "bench", config, sink, camera_ids=[seq.camera], realtime=False,
        max_frames=max_frames, log=lambda _line: None, overlap=overlap,
    )  # fmt: skip
    rows = [
        (m.frame_index, t.track_id, np.asarray(t.box), t.confidence)
        for m in sink.messages
        if isinstance(m, FrameObservations)
        for t in m.tracks
    ]
    return frames, rows, sink.clock


def _config(overrides: dict[str, Any]) -> Any:
    from edge.config import EdgeConfig

    base = EdgeConfig().model_dump()
    for section, values in overrides.items():
        base[section] = {**base[section], **values}
    return EdgeConfig.model_validate(base)


def bench_row(name: str, run: Run, work: Path) -> Row:
    row = Row(name)
    with PeakRss() as rss:
        for seq in SEQUENCES:
            frames, rows, clock = run(seq)
            row.wall_s += clock.wall_s
            row.cpu_s += clock.cpu_s
            row.frames += clock.frames
            row.scores[seq.name] = _score(rows, seq.gt, frames, work / f"{name}-{seq.name}.txt")
    row.peak_mib = rss.peak
    return row


def multi_camera(count: int, frames: int) -> tuple[int, float]:
    """The default settings, ``count`` cameras (the clips repeated) on one node, in the steady
    state: frames and seconds between the first and the last frame message."""
    from edge.config import EdgeConfig
    from edge.run import run_node
    from footfall.site import load_site

    site = load_site(DEMO_SITE)
    originals = [c for c in site.cameras if c.id in {s.camera for s in SEQUENCES}]
    cameras = [
        originals[i % len(originals)].model_copy(update={"id": f"{originals[i % 2].id}-{i}"})
        for i in range(count)
    ]
    many = site.model_copy(update={"cameras": cameras, "topology": site.topology.model_copy(
        update={"overlaps": [], "links": []})})  # fmt: skip
    config = EdgeConfig(max_batch_cameras=max(8, count))
    run_node(
        many, "bench", config, StampSink(), realtime=False, max_frames=2, log=lambda _line: None
    )  # fmt: skip  (calibration and compilation, untimed)
    sink = StampSink()
    run_node(many, "bench", config, sink, realtime=False, max_frames=frames,
             log=lambda _line: None)  # fmt: skip
    return sink.clock.frames, sink.clock.wall_s


class TimingSink:
    """Keeps messages and, for each frame message, its capture-to-publish latency (seconds)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.latency_s: dict[str, list[float]] = {}

    def publish(self, message: Any) -> None:
        from datetime import UTC, datetime

        from footfall.contract import FrameObservations

        if isinstance(message, FrameObservations):
            delay = (datetime.now(UTC) - message.captured_at).total_seconds()
            self.latency_s.setdefault(message.camera_id, []).append(delay)
        self.messages.append(message)

    def flush(self, timeout_s: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None


def realtime_demo(seconds: float) -> dict[str, dict[str, Any]]:
    """The demo site's cameras paced in real time for ``seconds``, default settings: per camera
    frames processed and skipped, processed rate, capture-to-publish latency, heartbeats."""
    from edge.config import EdgeConfig
    from edge.run import run_node
    from footfall.contract import CameraHeartbeat
    from footfall.site import load_site

    site = load_site(DEMO_SITE)
    config = EdgeConfig(heartbeat_interval_s=min(10.0, seconds / 3))
    run_node(
        site, "bench", config, TimingSink(), realtime=False, max_frames=3, log=lambda _line: None
    )  # fmt: skip  (models loaded and compiled once)
    sink = TimingSink()
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        run_node(site, "bench", config, sink, realtime=True, stop=stop, log=lambda _line: None)
    finally:
        timer.cancel()
    out: dict[str, dict[str, Any]] = {}
    for camera in site.cameras:
        beats = [
            m for m in sink.messages
            if isinstance(m, CameraHeartbeat) and m.camera_id == camera.id
        ]  # fmt: skip
        latencies = np.array(sink.latency_s.get(camera.id, [np.nan]))
        frames = sum(b.frames for b in beats)
        skipped = sum(b.dropped_frames for b in beats)
        # each heartbeat's fps covers the time its source was delivering (a clip may end first)
        span = sum(b.frames / b.fps for b in beats if b.fps > 0)
        out[camera.id] = {
            "target_fps": camera.fps,
            "frames": frames,
            "skipped": skipped,
            "fps": frames / span if span else 0.0,
            "latency_p50_s": float(np.nanpercentile(latencies, 50)),
            "latency_p99_s": float(np.nanpercentile(latencies, 99)),
            "latency_max_s": float(np.nanmax(latencies)),
            "heartbeats": [
                {
                    "status": str(b.status),
                    "fps": round(b.fps, 1),
                    "skipped": b.dropped_frames,
                    "detail": b.detail,
                }
                for b in beats
            ],
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", default="all", help="comma list of: baseline," + ",".join(STEPS) + " ('' none)"
    )
    parser.add_argument("--max-frames", type=int, help="cap every sequence (a quick look)")
    parser.add_argument("--cameras", default="4,8", help="multi-camera runs ('' for none)")
    parser.add_argument("--cameras-frames", type=int, default=150)
    parser.add_argument(
        "--realtime-s", type=float, default=60.0,
        help="seconds of the demo site's cameras paced in real time (0: skip)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    missing = [str(s.video) for s in SEQUENCES if not s.video.exists() or not s.gt.exists()]
    if missing:
        print(f"bench-edge: footage not here: {', '.join(missing)}", file=sys.stderr)
        return 1
    steps = ["baseline", *STEPS] if args.steps == "all" else [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s != "baseline" and s not in STEPS]
    if unknown:
        print(f"bench-edge: unknown step(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    work = REPO / ".run" / "bench-edge"
    work.mkdir(parents=True, exist_ok=True)
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(
        f"edge bench: {' + '.join(s.name for s in SEQUENCES)}"
        f"{f' (first {args.max_frames} frames)' if args.max_frames else ''}, "
        f"{os.cpu_count()} CPU cores; models are exported / quantized before timing"
    )
    for name in steps:  # exports, INT8 calibration and first-call set-up outside the timing
        if name != "baseline":
            config = _config(STEPS[name][0])
            run_node_rows(SEQUENCES[0], config, STEPS[name][1], 3)
    rows: list[Row] = []
    for name in steps:
        if name == "baseline":
            run: Run = lambda s: run_baseline(s, args.max_frames)  # noqa: E731
        else:
            overrides, overlap = STEPS[name]
            config = _config(overrides)
            run = lambda s, c=config, o=overlap: run_node_rows(s, c, o, args.max_frames)  # noqa: E731
        row = bench_row(name, run, work)
        rows.append(row)
        print(f"  {name:<16} {row.fps:6.1f} fps", flush=True)
    base = next((r for r in rows if r.name == "baseline"), None)
    names = [s.name for s in SEQUENCES]
    header = f"{'step':<16}{'fps':>7}{'x base':>8}{'CPU s/fr':>10}{'peak MiB':>10}" + "".join(
        f"{n + ' MOTA/IDF1':>28}" for n in names
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r.fps / base.fps:>7.2f}x" if base and base.fps else f"{'':>8}"
        cells = "".join(f"{r.scores[n]['mota']:>20.3f} / {r.scores[n]['idf1']:.3f}" for n in names)
        print(
            f"{r.name:<16}{r.fps:>7.1f}{ratio}{r.cpu_s / r.frames:>10.3f}{r.peak_mib:>10.0f}{cells}"
        )
    multi: dict[str, dict[str, float]] = {}
    for count in [int(c) for c in args.cameras.split(",") if c]:
        done, seconds = multi_camera(count, args.cameras_frames)
        multi[str(count)] = {"frames": done, "seconds": seconds, "fps": done / seconds}
        print(
            f"default, {count} cameras on one node: {done} frames in {seconds:.1f} s = "
            f"{done / seconds:.1f} frames/s in all ({done / seconds / count:.1f} per camera)"
        )
    realtime: dict[str, dict[str, Any]] = {}
    if args.realtime_s > 0:
        realtime = realtime_demo(args.realtime_s)
        print(f"\ndemo site in real time for {args.realtime_s:.0f} s (default settings):")
        print(f"{'camera':<18}{'target':>8}{'fps':>7}{'frames':>8}{'skipped':>9}"
              f"{'p50 s':>8}{'p99 s':>8}{'max s':>8}  heartbeats")  # fmt: skip
        for camera, cam in realtime.items():
            statuses = ", ".join(sorted({b["status"] for b in cam["heartbeats"]}))
            print(
                f"{camera:<18}{cam['target_fps']:>8.1f}{cam['fps']:>7.1f}{cam['frames']:>8}"
                f"{cam['skipped']:>9}{cam['latency_p50_s']:>8.2f}{cam['latency_p99_s']:>8.2f}"
                f"{cam['latency_max_s']:>8.2f}  {statuses}"
            )
            details = {b["detail"] for b in cam["heartbeats"] if b["detail"]}
            for detail in sorted(details)[:2]:
                print(f"{'':<18}  {detail}")
    if args.json:
        args.json.write_text(json.dumps(
            {"rows": [{**r.__dict__, "fps": r.fps} for r in rows], "multi_camera": multi,
             "realtime": realtime}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
