"""Multi-camera evaluation: one site, several time-aligned cameras, ground truth with global ids.

Every camera of a manifest's ``multi_camera`` group is replayed through the edge pipeline
(:func:`edge.replay.replay`: a video or a MOTChallenge detection file) into the contract
messages an edge node publishes; the messages of all cameras then go through the cloud's
stitcher exactly as ``footfall simulate --evaluate --in-process`` runs it (tracklets from the
messages, :func:`cloud.stitch.stitcher.stitch`, the equivalent of ingest + the database pass that
the simulator's evaluation checks equal), in every stitching mode. Scores:

* per camera: HOTA, IDF1, MOTA, … of its local tracks against its ground truth (TrackEval);
* ``mtmc_idf1``: IDF1 over global ids. In every camera and frame, system boxes are matched
  one-to-one to ground-truth boxes at IoU ≥ 0.5 (Hungarian, most overlap); each matched box
  pairs the stitched visitor of its track with the person's global id; ground-truth boxes
  nobody matched count as missed (IDFN), unmatched system boxes as false (IDFP);
* ``unique_visitors`` (stitched visitor ids seen on the site's floor plan: at least one floor
  position of one of their tracks inside their floor's width × depth, and counted by the
  cloud's rule, :func:`cloud.stitch.visitors.counted`: seen long enough) against
  ``true_visitors`` (global ids seen); ``visitors_off_plan``: stitched visitors seen only beyond
  the floor plan (people on the street behind a plaza are not the site's visitors);
  ``visitors_held_back``: visitors on the plan that the rule does not count;
* re-entries: a person unseen by every camera for at least ``REENTRY_GAP_S`` who comes back;
  recognised when most of their matched boxes after the gap carry the visitor id that most of
  their earlier matched boxes carried;
* the errors behind a lost MTMC IDF1: ``splits_within_visit`` (per person and visit, between
  re-entries, the stitched visitors beyond the first that a second or more of their matched
  boxes carry: fragments not joined), ``reentries`` − ``reentries_recognised`` (returns taken
  for someone new or someone else), ``visitors_joining_people`` (stitched visitors holding a
  second of someone other than their main person: wrong joins) and
  ``boxes_in_anothers_visitor``;
* ceilings, as two more modes: ``oracle`` gives every local track the true person most of its
  matched boxes belong to (perfect stitching of these tracks: what is left is the tracks' own
  identity switches and misses); ``oracle_no_reentry`` too, except that a person unseen by every
  camera for longer than the stitcher's ``plain_max_gap_s`` (6 s) comes back as someone new:
  perfect stitching that never recognises a return (re-entry linking, the stitcher's
  ``reentry_window_s``, can pass it only by recognising returns);
* line counts and zone visits: the site's lines and zones (its counting rules) on one trajectory
  per true person (their feet in every view through the site's calibration, averaged per frame)
  against one per stitched visitor (the floor positions of its local tracks, averaged per frame):
  a person seen by two cameras crosses a line once.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from footfall.evaluation.counting import compare, feet
from footfall.evaluation.manifest import Manifest, ManifestError, MultiCameraEntry
from footfall.evaluation.stitch_metrics import id_scores, relative_error
from footfall.site import Site, load_site
from footfall.site.rules import Track

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
"""Frame 1 of every camera of a group is captured at this instant (the cameras are in sync)."""
MATCH_IOU = 0.5
REENTRY_GAP_S = 2.0
"""A person unseen by every camera this long who is seen again has re-entered."""
HEADLINE_MODE = "combined"
"""The stitching mode of the group's headline figures (the cloud's default)."""

Log = Callable[[str], None]
Key = tuple[str, str]
"""(camera_id, track_id): a local track."""


def _site(manifest: Manifest, group: MultiCameraEntry) -> Site:
    from footfall.site import SiteConfigError

    try:
        site = load_site(manifest.path(group.site))
    except SiteConfigError as exc:
        raise ManifestError(str(exc)) from None
    known = {c.id for c in site.cameras}
    for cam in group.cameras:
        if cam.camera not in known:
            raise ManifestError(
                f"Multi-camera group '{group.name}': camera {cam.camera!r} is not in "
                f"{group.site}; valid: {', '.join(sorted(known))}."
            )
    return site


def _match(gt: np.ndarray, boxes: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one (gt row, box row) pairs at IoU ≥ MATCH_IOU, most overlap first (Hungarian).

    ``gt``: (G, 4) left, top, width, height; ``boxes``: (H, 4) x1, y1, x2, y2."""
    if not len(gt) or not len(boxes):
        return []
    g = np.column_stack([gt[:, :2], gt[:, :2] + gt[:, 2:4]])
    x1 = np.maximum(g[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(g[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(g[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(g[:, None, 3], boxes[None, :, 3])
    inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    area_g = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / np.maximum(area_g[:, None] + area_b[None, :] - inter, 1e-9)
    rows, cols = linear_sum_assignment(iou, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= MATCH_IOU]


def run_group(
    manifest: Manifest,
    group: MultiCameraEntry,
    config_name: str,
    config: Any,
    work_dir: Path,
    log: Log = print,
) -> dict[str, Any]:
    """Replay every camera of ``group``, stitch, and score (see the module docstring)."""
    from cloud.stitch.stitcher import MODES, StitchSettings, stitch
    from cloud.stitch.topology import CameraTopology
    from cloud.stitch.tracklets import from_messages
    from cloud.stitch.visitors import counted
    from edge.evaluate import hota_curve, load_mot, score
    from edge.mot import MotWriter
    from edge.pipeline import CameraResult, Identity
    from edge.replay import replay
    from footfall.contract import FrameObservations, Message, new_run_id

    site = _site(manifest, group)
    cameras = {c.id: c for c in site.cameras}
    messages: list[Message] = []
    per_camera: list[dict[str, Any]] = []
    gts: dict[str, np.ndarray] = {}
    fps_of: dict[str, float] = {}
    for entry in group.cameras:
        camera = cameras[entry.camera]
        source = manifest.path(entry.source) if entry.source else Path(camera.source)
        fps = camera.fps
        fps_of[camera.id] = fps
        identity = Identity(site.site.id, "eval-node", new_run_id())
        mot_file = work_dir / "mot" / config_name / group.name / f"{camera.id}.txt"
        log(f"[{config_name}] {group.name}/{camera.id}: replaying {source.name}")
        with MotWriter(mot_file) as writer:

            def keep(result: CameraResult, writer: MotWriter = writer) -> None:
                writer.write(result.frame.index, result.tracks, result.floor_xy)
                messages.extend(result.messages)

            summary = replay(
                str(source),
                camera.id,
                config,
                camera=camera,
                fps=fps,
                start_time=T0,
                max_frames=group.max_frames,
                identity=identity,
                on_result=[keep],
                calibration=[str(source)],
                progress=False,
            )
        hyp = load_mot(mot_file)
        gt = load_mot(manifest.path(entry.gt), ground_truth=True)
        gt = gt[gt[:, 0] <= summary.frames]
        gts[camera.id] = gt
        tracking = score(gt, hyp, np.arange(1, summary.frames + 1))
        alpha, hota, deta = hota_curve(gt, hyp)
        per_camera.append(
            {
                "camera": camera.id,
                "source": entry.source or camera.source,
                "pixels": not str(source).endswith((".txt", ".csv")),
                "gt": entry.gt,
                "frames": summary.frames,
                "fps": summary.fps,
                "tracks": summary.tracks,
                "gt_ids": len(np.unique(gt[:, 1])) if len(gt) else 0,
                "mot_file": str(mot_file),
                "tracking": tracking.as_dict(),
                "hota_curve": {
                    "alpha": alpha.tolist(),
                    "hota": hota.tolist(),
                    "deta": deta.tolist(),
                },
            }
        )
        t = tracking
        log(
            f"[{config_name}] {group.name}/{camera.id}: HOTA {t.hota:.3f}  IDF1 {t.idf1:.3f}  "
            f"MOTA {t.mota:.3f}  {summary.fps:.0f} fps"
        )

    # What the cloud sees: frame observations (boxes, floor positions) and tracklets.
    boxes: dict[str, dict[int, list[tuple[str, tuple[float, float, float, float]]]]] = {}
    floor_points: dict[Key, list[tuple[int, float, float]]] = defaultdict(list)
    for m in messages:
        if isinstance(m, FrameObservations):
            frame = m.frame_index + 1
            boxes.setdefault(m.camera_id, {})[frame] = [(o.track_id, o.box) for o in m.tracks]
            for o in m.tracks:
                if o.floor_xy is not None:
                    floor_points[(m.camera_id, o.track_id)].append((frame, *o.floor_xy))
    tracklets = from_messages(site, messages)
    topology = CameraTopology.of(site)
    assignments: dict[str, list[str]] = {"local": [f"{k[0]}/{k[2]}" for k in tracklets.keys]}
    for mode in MODES:
        assignments[mode] = stitch(tracklets, topology, StitchSettings(mode=mode), seed=0)
    assignments.update(_oracles(tracklets, _majority(gts, boxes)))

    true_paths = _true_paths(site, group, gts)
    modes: dict[str, dict[str, Any]] = {}
    for mode, ids in assignments.items():
        visitor = {(k[0], k[2]): v for k, v in zip(tracklets.keys, ids, strict=True)}
        spans = zip(ids, tracklets.start.tolist(), tracklets.end.tolist(), strict=True)
        unique = counted(spans, site.counting.min_visitor_s)
        modes[mode] = _score_mode(
            site, gts, boxes, visitor, floor_points, true_paths, fps_of, unique
        )
    head = modes[HEADLINE_MODE]
    log(
        f"[{config_name}] {group.name}: MTMC IDF1 {head['mtmc_idf1']:.3f}  unique visitors "
        f"{head['unique_visitors']} (true {head['true_visitors']})  [{HEADLINE_MODE}]"
    )
    headline_ids = dict(
        zip(((k[0], k[2]) for k in tracklets.keys), assignments[HEADLINE_MODE], strict=True)
    )
    return {
        "name": group.name,
        "config": config_name,
        "site": group.site,
        "cameras": per_camera,
        "tracklets": len(tracklets),
        "tracklets_with_embedding": int(tracklets.has_embedding.sum()),
        "headline_mode": HEADLINE_MODE,
        **{k: head[k] for k in ("mtmc_idf1", "unique_visitors", "true_visitors", "lines")},
        "unique_visitors_error": head["unique_visitors_error"],
        "modes": modes,
        "trajectories": _trajectories(floor_points, headline_ids, true_paths),
        "floor": _floor(site, group),
    }


def _majority(
    gts: dict[str, np.ndarray],
    boxes: dict[str, dict[int, list[tuple[str, tuple[float, float, float, float]]]]],
) -> dict[Key, int]:
    """Per local track, the true person most of its matched boxes belong to."""
    votes: dict[Key, Counter[int]] = defaultdict(Counter)
    for camera_id, gt in gts.items():
        for frame, hyp in boxes.get(camera_id, {}).items():
            truth = gt[gt[:, 0] == frame]
            pairs = _match(truth[:, 2:6], np.array([b for _, b in hyp]).reshape(-1, 4))
            for g, h in pairs:
                votes[(camera_id, hyp[h][0])][int(truth[g, 1])] += 1
    return {key: c.most_common(1)[0][0] for key, c in votes.items()}


def _oracles(tracklets: Any, person: dict[Key, int]) -> dict[str, list[str]]:
    """The ceilings of stitching these local tracks (module docstring): ``oracle`` gives every
    track its true person; ``oracle_no_reentry`` too, but a person unseen by every camera for
    longer than the stitcher's ``plain_max_gap_s`` comes back as someone new."""
    from cloud.stitch.stitcher import StitchSettings

    gap = StitchSettings().plain_max_gap_s
    keys = [(k[0], k[2]) for k in tracklets.keys]
    oracle = [f"person/{person[k]}" if k in person else f"{k[0]}/{k[1]}" for k in keys]
    episodes = list(oracle)
    last_end: dict[str, float] = {}
    episode: dict[str, int] = {}
    for i in np.lexsort((tracklets.end, tracklets.start)).tolist():
        vid = oracle[i]
        if not vid.startswith("person/"):
            continue
        if tracklets.start[i] - last_end.get(vid, -np.inf) > gap:
            episode[vid] = episode.get(vid, -1) + 1
        last_end[vid] = max(last_end.get(vid, -np.inf), float(tracklets.end[i]))
        episodes[i] = f"{vid}/{episode[vid]}"
    return {"oracle": oracle, "oracle_no_reentry": episodes}


def _true_paths(
    site: Site, group: MultiCameraEntry, gts: dict[str, np.ndarray]
) -> dict[int, dict[int, list[tuple[float, float]]]]:
    """Per true person, per frame: their feet on the floor in every view that sees them."""
    from edge.geometry import FloorProjector

    cameras = {c.id: c for c in site.cameras}
    out: dict[int, dict[int, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for camera_id, gt in gts.items():
        camera = cameras[camera_id]
        xy = camera.project_to_floor(FloorProjector(camera).undistort(feet(gt)))
        for (frame, person), p in zip(gt[:, :2].astype(int).tolist(), xy, strict=True):
            if np.isfinite(p).all():
                out[person][frame].append((float(p[0]), float(p[1])))
    return out


def _track(floor_id: str, fps: float, per_frame: dict[int, list[tuple[float, float]]]) -> Track:
    frames = sorted(per_frame)
    xy = np.array([np.mean(per_frame[f], axis=0) for f in frames]).reshape(-1, 2)
    at = [T0 + timedelta(seconds=(f - 1) / fps) for f in frames]
    return Track.columns(at, [floor_id] * len(frames), xy[:, 0].tolist(), xy[:, 1].tolist())


def _score_mode(
    site: Site,
    gts: dict[str, np.ndarray],
    boxes: dict[str, dict[int, list[tuple[str, tuple[float, float, float, float]]]]],
    visitor: dict[Key, str],
    floor_points: dict[Key, list[tuple[int, float, float]]],
    true_paths: dict[int, dict[int, list[tuple[float, float]]]],
    fps_of: dict[str, float],
    unique: set[str],
) -> dict[str, Any]:
    shared: list[tuple[str, int | None, int]] = []
    true_total = 0
    # per person: (frame, predicted visitor or None) of every ground-truth box
    seen: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for camera_id, gt in gts.items():
        frames = boxes.get(camera_id, {})
        true_total += len(gt)
        by_frame: dict[int, np.ndarray] = {
            int(f): gt[gt[:, 0] == f] for f in np.unique(gt[:, 0]).tolist()
        }
        for frame in sorted(set(frames) | set(by_frame)):
            hyp = frames.get(frame, [])
            truth = by_frame.get(frame, np.zeros((0, 7)))
            pairs = _match(truth[:, 2:6], np.array([b for _, b in hyp]).reshape(-1, 4))
            matched = {h: int(truth[g, 1]) for g, h in pairs}
            for h, (track, _) in enumerate(hyp):
                vid = visitor.get((camera_id, track), f"untracked/{camera_id}/{track}")
                shared.append((vid, matched.get(h), 1))
            predicted = {int(truth[g, 1]): visitor.get((camera_id, hyp[h][0])) for g, h in pairs}
            for person in truth[:, 1].astype(int).tolist():
                seen[person].append((frame, predicted.get(person)))
    scores = id_scores(shared)
    idfn = true_total - scores.idtp
    denom = 2 * scores.idtp + scores.idfp + idfn
    mtmc_idf1 = 2 * scores.idtp / denom if denom else 1.0
    visitors = {v for v, _, _ in shared if not v.startswith("untracked/")} | set(visitor.values())
    floors = {f.id: (f.width_m, f.depth_m) for f in site.floors}
    extent = {c.id: floors[c.floor] for c in site.cameras}
    on_plan = {
        visitor[key]
        for key, points in floor_points.items()
        if key in visitor
        and any(0 <= x <= extent[key[0]][0] and 0 <= y <= extent[key[0]][1] for _, x, y in points)
    }
    true_people = set(true_paths) | {p for gt in gts.values() for p in gt[:, 1].astype(int)}
    fps = min(fps_of.values())
    reentries, recognised = _reentries(seen, fps)
    splits, joined, joined_boxes = _errors(seen, fps)
    floor_id = site.floors[0].id
    true_tracks = [_track(floor_id, fps, per_frame) for per_frame in true_paths.values()]
    by_visitor: dict[str, dict[int, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for key, points in floor_points.items():
        vid = visitor.get(key, f"untracked/{key[0]}/{key[1]}")
        for frame, x, y in points:
            by_visitor[vid][frame].append((x, y))
    system_tracks = [_track(floor_id, fps, per_frame) for per_frame in by_visitor.values()]
    counts = compare(true_tracks, system_tracks, site.lines, site.zones, site.counting, "floor")
    lines = [
        {
            **c.as_dict(),
            "count_error": c.error,
            "relative_error": _rel(c.system_total, c.true_total),
        }
        for c in counts.lines
    ]
    return {
        "mtmc_idf1": round(mtmc_idf1, 4),
        "idp": round(scores.idtp / max(scores.idtp + scores.idfp, 1), 4),
        "idr": round(scores.idtp / max(true_total, 1), 4),
        "idtp": scores.idtp,
        "idfp": scores.idfp,
        "idfn": idfn,
        "unique_visitors": len(visitors & on_plan & unique),
        "visitors_off_plan": len(visitors - on_plan),
        "visitors_held_back": len((visitors & on_plan) - unique),
        "true_visitors": len(true_people),
        "unique_visitors_error": _rel(len(visitors & on_plan & unique), len(true_people)),
        "reentries": reentries,
        "reentries_recognised": recognised,
        "splits_within_visit": splits,
        "visitors_joining_people": joined,
        "boxes_in_anothers_visitor": joined_boxes,
        "lines": lines,
        "zones": [z.as_dict() for z in counts.zones],
    }


def _rel(predicted: float, true: float) -> float | None:
    value = relative_error(predicted, true)
    return round(value, 4) if np.isfinite(value) else None


def _reentries(seen: dict[int, list[tuple[int, str | None]]], fps: float) -> tuple[int, int]:
    """(re-entries, recognised): see the module docstring."""
    gap = max(1, round(REENTRY_GAP_S * fps))
    total = recognised = 0
    for observations in seen.values():
        frames = sorted({f for f, _ in observations})
        cuts = [f for a, f in itertools.pairwise(frames) if f - a > gap]
        for cut in cuts:
            total += 1
            before = Counter(v for f, v in observations if f < cut and v is not None)
            episode_end = next((c for c in cuts if c > cut), None)
            after = Counter(
                v
                for f, v in observations
                if f >= cut and (episode_end is None or f < episode_end) and v is not None
            )
            if before and after and before.most_common(1)[0][0] == after.most_common(1)[0][0]:
                recognised += 1
    return total, recognised


def _errors(seen: dict[int, list[tuple[int, str | None]]], fps: float) -> tuple[int, int, int]:
    """The stitching errors behind a lost MTMC IDF1 (module docstring): (visits split, visitors
    joining people, boxes in another's visitor)."""
    gap = max(1, round(REENTRY_GAP_S * fps))
    splits = 0
    people: dict[str, Counter[int]] = defaultdict(Counter)
    for person, observations in seen.items():
        frames = sorted({f for f, _ in observations})
        cuts = [f for a, f in itertools.pairwise(frames) if f - a > gap]
        bounds = [-np.inf, *cuts, np.inf]
        for lo, hi in itertools.pairwise(bounds):
            ids = Counter(v for f, v in observations if lo <= f < hi and v is not None)
            splits += max(sum(n >= fps for n in ids.values()) - 1, 0)  # a second or more
        for _, v in observations:
            if v is not None:
                people[v][person] += 1
    joined = joined_boxes = 0
    for counts in people.values():
        _, *others = counts.most_common()
        minor = [n for _, n in others if n >= fps]  # at least a second of someone else
        joined += bool(minor)
        joined_boxes += sum(n for _, n in others)
    return splits, joined, joined_boxes


def _trajectories(
    floor_points: dict[Key, list[tuple[int, float, float]]],
    visitor: dict[Key, str],
    true_paths: dict[int, dict[int, list[tuple[float, float]]]],
) -> dict[str, Any]:
    """For the report's floor-plan picture: each local track's floor path (every 3rd point,
    to 0.1 m) with its camera and stitched visitor; each true person's mean path."""
    system = [
        {
            "camera": key[0],
            "visitor": visitor.get(key, "?"),
            "xy": [[round(x, 1), round(y, 1)] for _, x, y in sorted(points)[::3]],
        }
        for key, points in floor_points.items()
        if len(points) >= 2
    ]
    truth = [
        {
            "person": person,
            "xy": [
                [round(float(v), 1) for v in np.mean(per_frame[f], axis=0)]
                for f in sorted(per_frame)[::3]
            ],
        }
        for person, per_frame in sorted(true_paths.items())
    ]
    return {"system": system, "truth": truth}


def _floor(site: Site, group: MultiCameraEntry) -> dict[str, Any]:
    floor = site.floors[0]
    return {
        "id": floor.id,
        "width_m": floor.width_m,
        "depth_m": floor.depth_m,
        "lines": [{"id": ln.id, "a": list(ln.a), "b": list(ln.b)} for ln in site.lines],
        "zones": [{"id": z.id, "polygon": [list(p) for p in z.polygon]} for z in site.zones],
    }
