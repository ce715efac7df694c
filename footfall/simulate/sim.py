"""The simulation: people walk their plans, cameras observe them, edge messages come out.

``Simulation(site, scenario, seed)`` plans everyone up front (cheap), then :meth:`chunks` walks
time forward in chunks of a few seconds: positions of the people present, who each camera sees,
each camera's tracker (:mod:`footfall.simulate.tracker`), and the contract messages of that
chunk — ``frame`` per camera frame, ``tracklet_start`` / ``tracklet_end`` (with a Re-ID
embedding) per track, a ``heartbeat`` per camera and minute — with each camera's clock skew.
Ground truth accumulates in :attr:`Simulation.truth` as it goes. Everything is deterministic
for a seed (ids included).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
    TrackObservation,
)
from footfall.simulate.cameras import CameraView
from footfall.simulate.people import Person, Planner, positions
from footfall.simulate.scenarios import Errors, Scenario
from footfall.simulate.tracker import CameraTracker, Observed, Track
from footfall.simulate.truth import Truth, person_truth
from footfall.simulate.world import World
from footfall.site import Site

EMBEDDING_MODEL = "sim-reid-v1"
CAMERAS_PER_NODE = 8
HEARTBEAT_S = 60.0
STAFF_STREAM = 0x57AFF
"""Staff plans draw from ``default_rng([seed, STAFF_STREAM])`` (cameras' trackers use
``[seed, camera index]``), so how staff work does not change the crowd of a seed."""


def appearance_basis(rng: np.random.Generator, dims: int, rank: int | None) -> np.ndarray | None:
    """An orthonormal (dims, rank) basis of the appearance subspace; None: full rank."""
    if rank is not None and rank < dims:
        return np.asarray(np.linalg.qr(rng.normal(size=(dims, rank)))[0])
    return None


def unit_vectors(
    rng: np.random.Generator, n: int, dims: int, basis: np.ndarray | None
) -> np.ndarray:
    """n random unit appearance vectors (n, dims), in ``basis``'s subspace if given."""
    if basis is None:
        v = rng.normal(size=(n, dims))
    else:
        v = rng.normal(size=(n, basis.shape[1])) @ basis.T
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True))


def identity_vectors(
    rng: np.random.Generator, n: int, dims: int, errors: Errors, basis: np.ndarray | None
) -> np.ndarray:
    """The appearance of n people (n, dims): look-alikes (``errors.lookalike_fraction``) come in
    sets of 2-3 sharing a base vector (``lookalike_similarity`` of it)."""
    ids = unit_vectors(rng, n, dims, basis)
    alike = np.flatnonzero(rng.random(n) < errors.lookalike_fraction)
    rng.shuffle(alike)
    s = errors.lookalike_similarity
    i = 0
    while i + 1 < len(alike):
        size = min(int(rng.integers(2, 4)), len(alike) - i)
        base = unit_vectors(rng, 1, dims, basis)[0]
        for j in alike[i : i + size]:
            v = math.sqrt(s) * base + math.sqrt(1 - s) * ids[j]
            ids[j] = v / np.linalg.norm(v)
        i += size
    return ids


def tracklet_embedding(
    rng: np.random.Generator, mix: np.ndarray, frames: int, errors: Errors
) -> np.ndarray:
    """A tracklet's unit embedding: the frame-weighted mix of the people it showed, plus noise
    that shrinks with its frames and varies per tracklet (``embedding_noise_spread``)."""
    dims = len(mix)
    mix = mix / np.linalg.norm(mix)
    sigma = errors.embedding_noise * math.sqrt(1.0 + 4.0 / max(frames, 1))
    if errors.embedding_noise_spread > 0:
        sigma *= math.exp(errors.embedding_noise_spread * float(rng.normal()))
    v = mix + sigma * rng.normal(size=dims) / math.sqrt(dims)
    return np.asarray(v / np.linalg.norm(v))


class Simulation:
    """One scenario on one site; see the module docstring."""

    def __init__(
        self,
        site: Site,
        scenario: Scenario,
        seed: int = 1,
        with_truth: bool = True,
        start: datetime | None = None,
    ) -> None:
        """``start``: stamp the window from this instant (aware) instead of the scenario's date
        and start hour; the crowd still follows the scenario's hours (``footfall simulate
        --live`` passes now)."""
        self.site = site
        self.scenario = scenario
        self.seed = seed
        self.with_truth = with_truth
        self.rng = np.random.default_rng(seed)
        self.world = World.of(site)
        tz = ZoneInfo(site.site.timezone)
        day = datetime.fromisoformat(scenario.date)
        local = day.replace(tzinfo=tz) + timedelta(hours=scenario.start_hour)
        if start is not None and start.tzinfo is None:
            raise ValueError(f"start {start} has no UTC offset")
        self.t0 = (start or local).astimezone(UTC)
        """True time of the window start (UTC)."""
        self.people: list[Person] = Planner(
            self.world, scenario, self.rng, np.random.default_rng([seed, STAFF_STREAM])
        ).people()
        self.plans = [p.plan.arrays() for p in self.people]
        self.first = np.array([p.plan.t[0] for p in self.people])
        self.last = np.array([p.plan.end for p in self.people])
        self.identities = self._identities(len(self.people))
        e = scenario.errors
        self.views = [
            CameraView.of(
                i,
                cam,
                self.world.floor_ids.index(cam.floor),
                float(self.rng.uniform(-e.clock_skew_s, e.clock_skew_s)),
                f"{int(self.rng.integers(0, 2**63)):016x}{int(self.rng.integers(0, 2**63)):016x}",
                f"sim-node-{i // CAMERAS_PER_NODE}",
            )
            for i, cam in enumerate(site.cameras)
        ]
        self.trackers = [
            CameraTracker(e, scenario.fps, np.random.default_rng([seed, i]))
            for i in range(len(self.views))
        ]
        self.ghosts = self._ghosts()
        self.frames_total = int(scenario.duration_s * scenario.fps)
        self.truth = Truth(people=[(p.index, p.role, p.group, p.visits) for p in self.people])
        self.counts = {"frames": 0, "observations": 0, "tracklets": 0, "messages": 0}

    # ------------------------------------------------------------------ set-up

    def _identities(self, n: int) -> np.ndarray:
        """Unit appearance vectors (n, d); look-alikes share a base vector."""
        e = self.scenario.errors
        self._basis = appearance_basis(self.rng, self.scenario.embedding_dims, e.appearance_rank)
        return identity_vectors(self.rng, n, self.scenario.embedding_dims, e, self._basis)

    def _draw(self, n: int) -> np.ndarray:
        """n random unit appearance vectors (in the appearance subspace, if any)."""
        return unit_vectors(self.rng, n, self.scenario.embedding_dims, self._basis)

    def _ghosts(self) -> list[list[tuple[int, int, int, float, float]]]:
        """Per camera: false tracks (first frame, last frame, ghost index, x, y)."""
        e = self.scenario.errors
        hours = self.scenario.duration_s / 3600.0
        out: list[list[tuple[int, int, int, float, float]]] = []
        extra: list[np.ndarray] = []
        for view in self.views:
            ghosts = []
            for _ in range(int(self.rng.poisson(e.ghost_per_camera_hour * hours))):
                start = int(
                    self.rng.integers(0, max(1, int(self.scenario.duration_s * self.scenario.fps)))
                )
                length = int(self.rng.uniform(2, 20) * self.scenario.fps)
                c = view.hull.representative_point()
                x0, y0, x1, y1 = view.bounds
                x, y = c.x, c.y
                for _ in range(20):
                    px, py = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
                    if view.sees(np.array([view.floor]), np.array([px]), np.array([py]))[0]:
                        x, y = px, py
                        break
                ghost = -(len(extra) + 1)
                extra.append(self._draw(1)[0])
                ghosts.append((start, start + length, ghost, float(x), float(y)))
            out.append(ghosts)
        self.ghost_identities = np.array(extra).reshape(-1, self.scenario.embedding_dims)
        return out

    # ------------------------------------------------------------------ running

    def _identity(self, person: int) -> np.ndarray:
        if person >= 0:
            return np.asarray(self.identities[person])
        return np.asarray(self.ghost_identities[-person - 1])

    def _reported(self, view: CameraView, k: int) -> datetime:
        seconds = k / self.scenario.fps + view.skew_s
        return self.t0 + timedelta(microseconds=round(seconds * 1e6))

    def chunks(self, chunk_s: float = 10.0) -> Iterator[list[Message]]:
        """The messages of the window, chunk by chunk (each chunk in camera, then time order)."""
        fps = self.scenario.fps
        step = max(1, int(chunk_s * fps))
        for k0 in range(0, self.frames_total, step):
            k1 = min(self.frames_total, k0 + step)
            yield self._chunk(k0, k1)
        tail: list[Message] = []
        for view, tracker in zip(self.views, self.trackers, strict=True):
            for track in tracker.finish():
                tail.append(self._ended(view, track))
        self.counts["messages"] += len(tail)
        yield tail
        if self.with_truth:
            self._truth()

    def messages(self) -> list[Message]:
        """The whole window's messages."""
        return [m for chunk in self.chunks() for m in chunk]

    def _chunk(self, k0: int, k1: int) -> list[Message]:
        fps = self.scenario.fps
        ks = np.arange(k0, k1)
        ts = ks / fps
        active = np.flatnonzero((self.first <= ts[-1]) & (self.last >= ts[0]))
        n = len(active)
        fl = np.full((n, len(ks)), -1, dtype=np.int64)
        xs = np.zeros((n, len(ks)))
        ys = np.zeros((n, len(ks)))
        for row, p in enumerate(active.tolist()):
            fl[row], xs[row], ys[row] = positions(self.plans[p], ts)
        out: list[Message] = []
        for view, tracker in zip(self.views, self.trackers, strict=True):
            out += self._camera_chunk(view, tracker, k0, ks, active, fl, xs, ys)
        self.counts["messages"] += len(out)
        return out

    def _camera_chunk(
        self,
        view: CameraView,
        tracker: CameraTracker,
        k0: int,
        ks: np.ndarray,
        active: np.ndarray,
        fl: np.ndarray,
        xs: np.ndarray,
        ys: np.ndarray,
    ) -> list[Message]:
        e = self.scenario.errors
        fps = self.scenario.fps
        seen = view.sees(fl, xs, ys)
        rows, cols = np.nonzero(seen)
        people = active[rows]
        px, py = xs[rows, cols], ys[rows, cols]
        prev = np.maximum(cols - 1, 0)
        nxt = np.minimum(prev + 1, xs.shape[1] - 1)
        ps = np.hypot(xs[rows, nxt] - xs[rows, prev], ys[rows, nxt] - ys[rows, prev]) * fps
        # ghosts of this chunk
        gp: list[int] = []
        gc: list[int] = []
        gx: list[float] = []
        gy: list[float] = []
        for start, end, ghost, x, y in self.ghosts[view.index]:
            for k in range(max(start, int(ks[0])), min(end, int(ks[-1])) + 1):
                gp.append(ghost)
                gc.append(k - k0)
                gx.append(x + float(self.rng.normal(0, 0.05)))
                gy.append(y + float(self.rng.normal(0, 0.05)))
        if gp:
            people = np.concatenate([people, gp]).astype(np.int64)
            cols = np.concatenate([cols, gc]).astype(np.int64)
            px = np.concatenate([px, gx])
            py = np.concatenate([py, gy])
            ps = np.concatenate([ps, np.zeros(len(gp))])
        order = np.argsort(cols, kind="stable")
        people, cols, px, py, ps = people[order], cols[order], px[order], py[order], ps[order]
        xy = np.stack([px, py], axis=1) if len(px) else np.zeros((0, 2))
        boxes = view.boxes(px, py)
        noisy = xy + tracker.rng.normal(0.0, e.position_noise_m, xy.shape)
        conf = tracker.rng.uniform(0.4, 0.95, len(px))
        bounds = np.searchsorted(cols, np.arange(len(ks) + 1))
        out: list[Message] = []
        width, height = view.camera.resolution
        floor_id = view.camera.floor
        for c, k in enumerate(ks.tolist()):
            lo, hi = int(bounds[c]), int(bounds[c + 1])
            rows_k = np.arange(lo, hi)
            valid = ~np.isnan(boxes[lo:hi, 0])
            observed, started, ended = tracker.step(k, people[lo:hi][valid], rows_k[valid], xy, ps)
            at = self._reported(view, k)
            for track in started:
                out.append(
                    TrackletStarted(
                        site_id=self.site.id,
                        camera_id=view.camera.id,
                        node_id=view.node_id,
                        run_id=view.run_id,
                        track_id=track.track_id,
                        started_at=at,
                    )
                )
            tracks = [self._observation(o, boxes, noisy, conf, floor_id) for o in observed]
            out.append(
                FrameObservations(
                    site_id=self.site.id,
                    camera_id=view.camera.id,
                    node_id=view.node_id,
                    run_id=view.run_id,
                    frame_index=k,
                    captured_at=at,
                    image_width=width,
                    image_height=height,
                    tracks=tracks,
                )
            )
            self.counts["frames"] += 1
            self.counts["observations"] += len(tracks)
            for track in ended:
                out.append(self._ended(view, track))
            if k > 0 and k % int(HEARTBEAT_S * self.scenario.fps) == 0:
                out.append(self._heartbeat(view, at))
        return out

    @staticmethod
    def _observation(
        o: Observed, boxes: np.ndarray, noisy: np.ndarray, conf: np.ndarray, floor_id: str
    ) -> TrackObservation:
        b = boxes[o.row]
        return TrackObservation(
            track_id=o.track.track_id,
            box=(
                round(float(b[0]), 1),
                round(float(b[1]), 1),
                round(float(b[2]), 1),
                round(float(b[3]), 1),
            ),
            confidence=round(float(conf[o.row]), 3),
            floor_id=floor_id,
            floor_xy=(round(float(noisy[o.row, 0]), 3), round(float(noisy[o.row, 1]), 3)),
        )

    def _ended(self, view: CameraView, track: Track) -> TrackletEnded:
        e = self.scenario.errors
        d = self.scenario.embedding_dims
        total = sum(track.people.values())
        mix = np.zeros(d)
        for p, n in track.people.items():
            mix += n * self._identity(p)
        v = np.asarray(np.round(tracklet_embedding(self.rng, mix, total, e), 5), dtype=np.float64)
        v /= np.linalg.norm(v)
        self.truth.tracks[(view.camera.id, view.run_id, track.track_id)] = track.people
        self.counts["tracklets"] += 1
        return TrackletEnded(
            site_id=self.site.id,
            camera_id=view.camera.id,
            node_id=view.node_id,
            run_id=view.run_id,
            track_id=track.track_id,
            started_at=self._reported(view, track.first_k),
            ended_at=self._reported(view, track.last_k),
            frame_count=max(1, track.frames),
            embedding=[float(x) for x in v],
            embedding_model=EMBEDDING_MODEL,
            quality=round(total / (total + 10.0), 3),
        )

    def _heartbeat(self, view: CameraView, at: datetime) -> CameraHeartbeat:
        fps = self.scenario.fps
        return CameraHeartbeat(
            site_id=self.site.id,
            camera_id=view.camera.id,
            node_id=view.node_id,
            run_id=view.run_id,
            sent_at=at,
            interval_s=HEARTBEAT_S,
            frames=int(HEARTBEAT_S * fps),
            fps=fps,
            target_fps=fps,
            latency_ms=round(float(self.rng.uniform(40, 90)), 1),
            dropped_frames=0,
            status="ok",
        )

    def _truth(self) -> None:
        fps = self.scenario.fps
        grid = np.arange(self.frames_total) / fps
        for person, plan in zip(self.people, self.plans, strict=True):
            times = grid[(grid >= person.plan.t[0]) & (grid <= person.plan.end)]
            fl, x, y = positions(plan, times)
            crossings, visits = person_truth(
                self.site, self.world.floor_ids, person.index, times, fl, x, y, self.t0
            )
            self.truth.crossings += crossings
            self.truth.visits += visits
