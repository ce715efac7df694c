"""Synthetic walkers for tests and benchmarks: contract messages from made-up trajectories.

Each camera gets walkers that enter at a random point of the camera's floor area (the bounding
box of its homography's floor points), walk to a random point, stand there for a while, and walk
to a third point. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from footfall.contract import FrameObservations, Message, TrackObservation, new_run_id
from footfall.site import Camera, Site

Box = tuple[float, float, float, float]


def camera_area(camera: Camera) -> Box:
    xs = [p.floor[0] for p in camera.calibration.points]
    ys = [p.floor[1] for p in camera.calibration.points]
    return (min(xs), min(ys), max(xs), max(ys))


def walker_path(rng: random.Random, area: Box, fps: float) -> list[tuple[float, float]]:
    """One walker's floor positions, one per frame: walk, stand a while, walk on."""
    x0, y0, x1, y1 = area
    pts = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(3)]
    speed = rng.uniform(0.8, 1.6) / fps  # metres per frame
    out: list[tuple[float, float]] = []
    for i in range(2):
        (ax, ay), (bx, by) = pts[i], pts[i + 1]
        steps = max(1, int(((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 / speed))
        out += [(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps) for k in range(steps)]
        if i == 0:
            out += [
                (bx + rng.gauss(0, 0.05), by + rng.gauss(0, 0.05))
                for _ in range(int(rng.uniform(0, 20) * fps))
            ]
    return [(min(max(x, x0), x1), min(max(y, y0), y1)) for x, y in out]


def camera_frames(
    site: Site,
    camera: Camera,
    start: datetime,
    duration_s: float,
    fps: float,
    walkers_per_minute: float,
    seed: int,
) -> Iterator[FrameObservations]:
    """One camera's frames, in time order, with its walkers' floor positions."""
    rng = random.Random(f"{seed}/{camera.id}")
    area = camera_area(camera)
    run_id = new_run_id() if seed < 0 else f"{rng.getrandbits(128):032x}"
    frames = int(duration_s * fps)
    spawn_p = walkers_per_minute / 60.0 / fps
    active: list[tuple[str, list[tuple[float, float]]]] = []
    width, height = camera.resolution
    for i in range(frames):
        if rng.random() < spawn_p:
            active.append((f"{rng.getrandbits(64):016x}", walker_path(rng, area, fps)))
        tracks = []
        still = []
        for track_id, path in active:
            x, y = path.pop(0)
            u = (x - area[0]) / max(area[2] - area[0], 1e-6) * (width - 41)
            tracks.append(
                TrackObservation(
                    track_id=track_id,
                    box=(u, 10.0, u + 40.0, 120.0),
                    confidence=0.9,
                    floor_id=camera.floor,
                    floor_xy=(round(x, 3), round(y, 3)),
                )
            )
            if path:
                still.append((track_id, path))
        active = still
        yield FrameObservations(
            site_id=site.id,
            camera_id=camera.id,
            node_id="synthetic",
            run_id=run_id,
            frame_index=i,
            captured_at=start + timedelta(seconds=i / fps),
            image_width=width,
            image_height=height,
            tracks=tuple(tracks[:500]),
        )


def site_messages(
    site: Site,
    start: datetime,
    duration_s: float,
    fps: float = 5.0,
    walkers_per_minute: float = 6.0,
    seed: int = 1,
) -> list[Message]:
    """Frames of every camera of ``site`` (per camera in time order, cameras one after another)."""
    out: list[Message] = []
    for camera in site.cameras:
        out += camera_frames(site, camera, start, duration_s, fps, walkers_per_minute, seed)
    return out
