"""Runs a manifest: every configuration over every sequence, then the crowd count, the
multi-camera groups (:mod:`.multicam`) and end to end.

Each sequence is replayed through :func:`edge.replay.replay` -- the production pipeline
(detector backend, Re-ID, BoT-SORT, floor projection) -- into a MOTChallenge file under the work
folder, which is then scored against the ground truth (:mod:`edge.evaluate`) and counted
(:mod:`.counting`). Sequences with ground truth but no footage are listed with their
ground-truth figures and the reason they could not be replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge.evaluate import hota_curve, score
from footfall.evaluation.counting import (
    IMAGE_FLOOR,
    CountingResult,
    compare,
    feet,
    image_tracks,
    trajectories,
)
from footfall.evaluation.manifest import (
    ConfigEntry,
    Counting,
    CrowdEntry,
    Manifest,
    ManifestError,
    SequenceEntry,
)
from footfall.site import Camera, CountingLine, CountingRules, Site, Zone, load_site

Log = Callable[[str], None]


@dataclass
class Results:
    """Everything a report shows; ``as_dict`` is what metrics.json holds."""

    manifest: str
    description: str
    command: str
    configs: list[dict[str, Any]] = field(default_factory=list)
    sequences: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    crowd: list[dict[str, Any]] = field(default_factory=list)
    end_to_end: dict[str, Any] | None = None
    multi_camera: list[dict[str, Any]] = field(default_factory=list)
    detection: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def build_config(manifest: Manifest, entry: ConfigEntry) -> Any:
    """The EdgeConfig of a manifest entry: its file, then its dotted ``set`` overrides."""
    from pydantic import ValidationError

    from edge.config import EdgeConfig, EdgeConfigError, load_edge_config

    try:
        base = load_edge_config(manifest.path(entry.file) if entry.file else None)
    except EdgeConfigError as exc:
        raise ManifestError(str(exc)) from None
    data = base.model_dump(mode="json")
    for dotted, value in entry.set.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            if not isinstance(node.get(key), dict):
                raise ManifestError(
                    f"Config '{entry.name}': set.{dotted}: no section {key!r}; use a dotted "
                    "path such as detector.image_size (see edge/config.py)."
                )
            node = node[key]
        if leaf not in node:
            valid = ", ".join(sorted(node))
            raise ManifestError(
                f"Config '{entry.name}': set.{dotted}: unknown setting {leaf!r}; valid: {valid}."
            )
        node[leaf] = value
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ManifestError(f"Config '{entry.name}': {where}: {err['msg']}.") from None


def describe_config(config: Any) -> str:
    det, reid, trk = config.detector, config.reid, config.tracker
    reid_text = "off" if reid.backend == "none" else reid.backend
    return (
        f"{det.backend} {det.image_size} px, conf {det.confidence:g}, Re-ID {reid_text}, "
        f"new track {trk.new_track_thresh:g}, buffer {trk.track_buffer_s:g} s"
    )


def image_geometry(counting: Counting) -> tuple[list[CountingLine], list[Zone]]:
    lines = [
        CountingLine(id=ln.id, floor=IMAGE_FLOOR, a=ln.a, b=ln.b, in_side=ln.in_side)
        for ln in counting.lines
    ]
    zones = [
        Zone(
            id=z.id,
            name=z.id,
            floor=IMAGE_FLOOR,
            kind="other",
            polygon=[list(p) for p in z.polygon],
        )
        for z in counting.zones
    ]
    return lines, zones


def site_camera(manifest: Manifest, entry: SequenceEntry) -> tuple[Site, Camera] | None:
    if entry.site is None or entry.camera is None:
        return None
    from footfall.site import SiteConfigError

    try:
        site = load_site(manifest.path(entry.site))
    except SiteConfigError as exc:
        raise ManifestError(str(exc)) from None
    for camera in site.cameras:
        if camera.id == entry.camera:
            return site, camera
    valid = ", ".join(c.id for c in site.cameras)
    raise ManifestError(
        f"Sequence '{entry.name}': camera {entry.camera!r} is not in {entry.site}; valid: {valid}."
    )


def floor_points(camera: Camera, rows: np.ndarray) -> np.ndarray:
    """Feet of MOT rows on the camera's floor, metres (undistorted first, as the edge does)."""
    from edge.geometry import FloorProjector

    undistorted = FloorProjector(camera).undistort(feet(rows))
    return np.asarray(camera.project_to_floor(undistorted), np.float64).reshape(-1, 2)


def count_sequence(
    manifest: Manifest, entry: SequenceEntry, gt: np.ndarray, hyp: np.ndarray, fps: float
) -> list[CountingResult]:
    """Image-space counts (the manifest's lines and zones) and floor counts (the site's)."""
    out = []
    if entry.counting is not None:
        lines, zones = image_geometry(entry.counting)
        # The same rule in pixels (the manifest validated these; a pixel hysteresis may be
        # larger than the site model's bound in metres).
        rules = CountingRules.model_construct(
            line_hysteresis_m=entry.counting.hysteresis_px,
            line_establish_s=entry.counting.establish_s,
            min_visit_s=entry.counting.min_visit_s,
            visit_gap_s=entry.counting.visit_gap_s,
        )
        out.append(
            compare(image_tracks(gt, fps), image_tracks(hyp, fps), lines, zones, rules, "image")
        )
    found = site_camera(manifest, entry)
    if found is not None:
        site, camera = found
        rules = site.counting
        true_t = trajectories(gt, fps, floor_points(camera, gt), camera.floor)
        system_t = trajectories(hyp, fps, floor_points(camera, hyp), camera.floor)
        lines = [ln for ln in site.lines if ln.floor == camera.floor]
        zones = [z for z in site.zones if z.floor == camera.floor]
        result = compare(true_t, system_t, lines, zones, rules, f"floor ({site.site.id})")
        # Lines and zones this camera never sees (no true and no system count) say nothing.
        result.lines = [c for c in result.lines if c.true_total or c.system_total]
        result.zones = [z for z in result.zones if z.true_visits or z.system_visits]
        out.append(result)
    return out


def gt_summary(gt: np.ndarray) -> dict[str, Any]:
    return {
        "gt_frames": len(np.unique(gt[:, 0])) if len(gt) else 0,
        "gt_boxes": len(gt),
        "gt_ids": len(np.unique(gt[:, 1])) if len(gt) else 0,
    }


def calibration_footage(manifest: Manifest, entry: SequenceEntry | None = None) -> list[str]:
    """INT8 calibration footage, as the edge node would have it: the cameras of the site a
    sequence is placed on (so a replay and ``footfall edge run`` on that site use the same
    model); else every sequence of the manifest together (never one alone)."""
    found = site_camera(manifest, entry) if entry is not None else None
    if found is not None:
        return sorted({c.source for c in found[0].cameras})
    sources = {str(manifest.path(s.source)) for s in manifest.sequences if s.source is not None}
    sources |= {str(manifest.path(c.frames)) for c in manifest.crowd}
    return sorted(s for s in sources if Path(s).exists())


def run_sequence(
    manifest: Manifest,
    entry: SequenceEntry,
    config_name: str,
    config: Any,
    work_dir: Path,
) -> dict[str, Any]:
    """Replay one sequence with one configuration; score and count it."""
    from edge.evaluate import load_mot
    from edge.mot import MotWriter
    from edge.replay import replay

    assert entry.source is not None
    fps = manifest.sequence_fps(entry)
    found = site_camera(manifest, entry)
    camera = found[1] if found is not None else None
    mot_file = work_dir / "mot" / config_name / f"{entry.name}.txt"
    with MotWriter(mot_file) as writer:
        summary = replay(
            str(manifest.path(entry.source)),
            entry.camera or entry.name.lower(),
            config,
            camera=camera,
            fps=fps,
            max_frames=entry.max_frames,
            on_result=[lambda r: writer.write(r.frame.index, r.tracks, r.floor_xy)],
            calibration=calibration_footage(manifest, entry),
        )
    hyp = load_mot(mot_file)
    gt = load_mot(manifest.path(entry.gt), ground_truth=True)
    gt = gt[gt[:, 0] <= summary.frames]
    frames = np.arange(1, summary.frames + 1)
    scores = score(gt, hyp, frames)
    alpha, hota, deta = hota_curve(gt, hyp)
    counting = count_sequence(manifest, entry, gt, hyp, fps)
    from edge.sources import read_frame
    from footfall.evaluation.detection import score_mot

    frame_height = read_frame(str(manifest.path(entry.source)), "eval", 0).shape[0]
    return {
        "detection": score_mot(gt, hyp, frames, frame_height),
        "config": config_name,
        "sequence": entry.name,
        "frames": summary.frames,
        "seconds": summary.seconds,
        "fps": summary.fps,
        "mot_file": str(mot_file),
        "tracking": scores.as_dict(),
        "hota_curve": {"alpha": alpha.tolist(), "hota": hota.tolist(), "deta": deta.tolist()},
        "counting": [c.as_dict() for c in counting],
    }


def run_crowd(manifest: Manifest, entry: CrowdEntry, config: Any) -> dict[str, Any]:
    """People per frame of a crowd entry, detected as a camera named after the entry (its
    settings in the edge config's ``cameras``), split by distance with the perspective map."""
    from edge.detection_backends import build_camera_detector, weights_identity
    from footfall.evaluation.crowd import count_people, frame_files, load_mall, load_perspective

    heads, mask = load_mall(manifest.path(entry.gt), manifest.path(entry.roi))
    files = frame_files(manifest.path(entry.frames))
    camera_id = entry.name
    detector = build_camera_detector(config, calibration_footage(manifest), {camera_id: None})
    per_camera = getattr(detector, "detect_cameras", None)

    def detect(images: list[np.ndarray]) -> list[np.ndarray]:
        if per_camera is not None:
            found = per_camera([camera_id] * len(images), images)
        else:
            found = detector.detect(images)
        return [np.column_stack([d.xyxy, d.confidence]) for d in found]

    track = None
    if entry.count == "tracks":
        from edge.detection import Detections
        from edge.tracking import build_tracker

        assert entry.fps is not None  # the manifest requires it
        tracker = build_tracker(config.tracker_for(camera_id), entry.fps, use_embeddings=False)

        def track(found: np.ndarray, image: np.ndarray) -> tuple[list[str], np.ndarray]:
            boxes = Detections(
                xyxy=found[:, :4].astype(np.float32), confidence=found[:, 4].astype(np.float32)
            )
            shown = tracker.update(boxes, image)
            ids = [] if shown.tracker_id is None else [str(t) for t in shown.tracker_id]
            return ids, shown.xyxy

    result = count_people(
        files,
        heads,
        mask,
        detect,
        track=track,
        stride=entry.stride,
        max_frames=entry.max_frames,
        head_fraction=entry.head_fraction,
        desc=entry.name,
        perspective=load_perspective(manifest.path(entry.roi)),
        person_px=entry.person_px,
        min_scores={"trusted": config.tracker.track_high_thresh},
    )
    return {
        "name": entry.name,
        "detector": weights_identity(config.detector),
        "camera_settings": (
            config.cameras[camera_id].model_dump(mode="json")
            if camera_id in config.cameras
            else None
        ),
        "confidence": (
            config.cameras[camera_id].confidence
            if camera_id in config.cameras and config.cameras[camera_id].confidence is not None
            else config.detector.confidence
        ),
        "stride": entry.stride,
        "frames_available": min(len(files), len(heads)),
        "head_fraction": entry.head_fraction,
        **result.as_dict(),
    }


def run_detection_only(
    manifest: Manifest, entry: SequenceEntry, config_name: str, config: Any
) -> dict[str, Any]:
    """The detector alone on every ``detection_stride``-th frame of a sequence, scored per
    person-height band (:mod:`.detection`)."""
    from edge.evaluate import load_mot
    from footfall.evaluation.detection import run_detection

    assert entry.source is not None
    found = site_camera(manifest, entry)
    camera_id = entry.camera or entry.name.lower()
    result = run_detection(
        str(manifest.path(entry.source)),
        camera_id,
        load_mot(manifest.path(entry.gt), ground_truth=True),
        config,
        camera=found[1] if found is not None else None,
        calibration=calibration_footage(manifest, entry),
        stride=entry.detection_stride,
        max_frames=entry.max_frames,
        desc=f"{config_name} {entry.name}",
    )
    return {"config": config_name, "sequence": entry.name, "camera": camera_id, **result}


def run_manifest(
    manifest: Manifest,
    *,
    command: str,
    work_dir: Path,
    end_to_end: Callable[[Manifest, Results], dict[str, Any]] | None = None,
    log: Log = print,
) -> Results:
    """Every configuration over every sequence with footage, the crowd entries, end to end."""
    from edge.evaluate import load_mot

    results = Results(manifest.name, manifest.description, command)
    results.environment = environment()
    configs = [(entry, build_config(manifest, entry)) for entry in manifest.configs]
    for entry, config in configs:
        results.configs.append(
            {
                "name": entry.name,
                "file": entry.file,
                "set": entry.set,
                "summary": describe_config(config),
                "resolved": config.model_dump(mode="json"),
            }
        )
    for seq in manifest.sequences:
        gt = load_mot(manifest.path(seq.gt), ground_truth=True)
        if seq.max_frames is not None:
            gt = gt[gt[:, 0] <= seq.max_frames]
        results.sequences.append(
            {
                "name": seq.name,
                "source": seq.source,
                "gt": seq.gt,
                "fps": manifest.sequence_fps(seq),
                "max_frames": seq.max_frames,
                "footage": seq.source is not None,
                "site_camera": f"{seq.site}#{seq.camera}" if seq.camera else None,
                "note": seq.note,
                **gt_summary(gt),
            }
        )
    for entry, config in configs:
        for seq in manifest.sequences:
            if seq.source is None:
                continue
            if manifest.detection_only:
                results.detection.append(run_detection_only(manifest, seq, entry.name, config))
                d = results.detection[-1]
                log(
                    f"[{entry.name}] {seq.name}: detection precision {d['precision'] or 0:.3f}  "
                    f"recall {d['recall'] or 0:.3f}  {d['fps'] or 0:.1f} fps"
                )
                continue
            log(f"[{entry.name}] {seq.name}: replaying")
            run = run_sequence(manifest, seq, entry.name, config, work_dir)
            t = run["tracking"]
            log(
                f"[{entry.name}] {seq.name}: HOTA {t['hota']:.3f}  IDF1 {t['idf1']:.3f}  "
                f"MOTA {t['mota']:.3f}  IDsw {t['id_switches']}  {run['fps']:.1f} fps"
            )
            results.runs.append(run)
    detector_done: dict[str, dict[str, Any]] = {}
    for entry, config in configs:
        for crowd in manifest.crowd:
            own = config.cameras.get(crowd.name)
            settings = [
                crowd.name,
                config.detector.model_dump(mode="json"),
                own.model_dump(mode="json") if own is not None else None,
                config.tracker.track_high_thresh,  # the "trusted" boxes' lowest score
                config.tracker_for(crowd.name).model_dump(mode="json"),
            ]
            key = json.dumps(settings, sort_keys=True)
            if key not in detector_done:
                log(f"[{entry.name}] {crowd.name}: counting people per frame ({crowd.count})")
                detector_done[key] = run_crowd(manifest, crowd, config)
                c = detector_done[key]
                log(f"[{entry.name}] {crowd.name}: MAE {c['mae']:.2f}  MAPE {c['mape']:.3f}")
            results.crowd.append({"config": entry.name, **detector_done[key]})
    if manifest.multi_camera:
        from footfall.evaluation.multicam import run_group

        built = {entry.name: config for entry, config in configs}
        for group in manifest.multi_camera:
            name = manifest.config(group.config).name
            results.multi_camera.append(
                run_group(manifest, group, name, built[name], work_dir, log=log)
            )
    if manifest.end_to_end is not None and end_to_end is not None:
        results.end_to_end = end_to_end(manifest, results)
    return results


def environment() -> dict[str, Any]:
    import os
    import platform

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
