"""The online stitcher: each tracklet joins a visitor of the gallery or starts a new one.

Tracklets are decided in order of their end, in batches: a batch holds the tracklets that
ended within ``delay_s`` of its first one and is decided ``delay_s`` after its last one, all
rows jointly (Hungarian assignment, :func:`scipy.optimize.linear_sum_assignment`), so two
tracklets never claim the same visitor at once. The gallery keeps, per visitor, the running
mean of its tracklets' embeddings (weighted by quality) and where and when it was last seen;
visitors not seen for ``ttl_s`` are forgotten (the memory bound: the gallery never holds more
than the visitors of the last ``ttl_s``).

A tracklet T and a visitor V (last seen on camera c at time e, position p) are scored in one
of three modes:

* ``appearance``: cosine similarity of T's embedding and V's mean embedding, nothing else, on
  one scale for every embedder: (cos − m) / (1 − m), m the embedder's different-person mean
  (``appearance_baselines``; two unrelated people score 0 on average, as the simulator's do).
* ``spacetime``: no appearance at all. Feasibility (below) and the plausibility of the
  hand-over: a linked camera within the link's walking window, an overlapping camera at the
  same time, the same camera a moment later (a broken track); ties go to the shorter gap.
* ``combined``: appearance + ``spacetime_weight`` × plausibility, for feasible pairs only.

A tracklet without appearance (a camera replayed from detections, no Re-ID: no embedding), or a
visitor seen only in such tracklets, has no appearance score: in ``appearance`` mode it never
joins anyone; in ``combined`` its appearance counts as exactly the threshold and where it is on
the floor decides, more strictly than a hand-over window (without appearance anyone nearby
would fit it): seen at the same time by an overlapping camera, the two paths must agree (mean
distance below ``overlap_agree_m``; the closer the better); seen after a gap of at most
``plain_max_gap_s``, its first position must lie within ``plain_radius_m`` +
``plain_spread_mps`` × gap of where the visitor was last seen, carried on at its last velocity
for up to ``plain_coast_s`` (the nearer, and the shorter the gap, the better). Such a tracklet
moves its visitor's last camera, time, position and velocity like any other, and is strong (it
keeps its visitor for ``ttl_s``) when it lasted ``min_plain_frames`` frames.

Decisions are final, but visitors may merge (``combined`` mode, one of them without appearance,
``merge_fit``): a tracklet that joined V and fits another visitor W on the floor as well (seen by
an overlapping camera at the same time, or continuing W's broken track) shows V and W to be one
person, unless they were ever in two places at once (two tracks of one camera at the same time,
non-overlapping or disagreeing views at once, a walk too fast between sightings). The one first
seen keeps its id; the other id becomes an alias of it (:attr:`Stitcher.aliases`; the database
keeps them in ``visitor_alias``), and :meth:`Stitcher.run` answers every row's id as it stands
after the merges. A tracklet seen at the same time as a visitor is compared with all of the
visitor's tracklets of that time, not only its last.

Re-entries (``combined`` mode, ``reentry_window_s``): someone who leaves every view and comes
back after longer than a hand-over gap starts a new visitor first; that visitor is weighed (once
it is strong, and again whenever a tracklet decided later shows it was first seen earlier)
against the visitors who left within ``reentry_window_s`` before it was first seen, within
``reentry_radius_m`` of where it was, both at the edge of the covered floor (not in plain view of
any camera: :meth:`CameraTopology.inside`), never in two places at once, and alike where both
have appearance. One assignment (Hungarian) over the batch's new visitors and those who left
pairs them on distance, gap and appearance; a pair merges only when no other pairing fits within
``reentry_margin`` of it (several people left there: the newcomer stays someone new).

Feasible means: T does not start before V's last sighting ended (by more than the clock-skew
tolerance) unless the two cameras overlap and the positions agree where both saw someone
(nobody is in two places at once); on the same floor, the straight-line distance from p to T's
first position can be walked in the gap at ``max_speed_mps``; across floors the gap is at least
the shortest walk over the site's links. A pair scoring above the mode's threshold may be
joined; a tracklet with no such visitor starts a new one with a random anonymous id.
"""

from __future__ import annotations

import secrets
from random import Random
from typing import Final

import numpy as np
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

from cloud.settings import DEFAULT_THRESHOLD, MODES, StitchSettings
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import Tracklets

_NEVER: Final = -1e9


_COLUMNS = ("sum", "emb", "strong", "cam", "end", "xy", "vel", "alive", "seen", "first")

Segment = tuple[int, float, float, np.ndarray]
"""(camera, start s, end s, (m, 3) path) of one tracklet of a visitor."""


class Gallery:
    """Visitors as growing columns; dead (expired) columns are dropped now and then."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        cap = 256
        self.sum = np.zeros((cap, dims))
        self.emb = np.zeros((cap, dims), dtype=np.float32)
        self.strong = np.zeros(cap, dtype=bool)
        self.cam = np.zeros(cap, dtype=np.int64)
        self.end = np.zeros(cap)
        self.xy = np.zeros((cap, 2))
        self.vel = np.zeros((cap, 2))
        """Velocity (m/s) at the end of the visitor's last tracklet."""
        self.alive = np.zeros(cap, dtype=bool)
        self.seen = np.zeros(cap, dtype=bool)
        """The visitor's appearance is known (one of its tracklets had an embedding)."""
        self.first = np.zeros(cap)
        """When the visitor was first seen (s): of two merged visitors the older id stays."""
        self.paths: list[np.ndarray] = []
        self.segments: list[list[Segment]] = []
        """Per visitor, its tracklets of the last ``ttl_s`` (for where it was when)."""
        self.ids: list[str] = []
        self.size = 0

    def __len__(self) -> int:
        return int(self.alive[: self.size].sum())

    def _grow(self) -> None:
        cap = len(self.end) * 2
        for name in _COLUMNS:
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def add(self, visitor_id: str) -> int:
        if self.size == len(self.end):
            self._grow()
        col = self.size
        self.size += 1
        self.sum[col] = 0.0
        self.strong[col] = False
        self.end[col] = -np.inf
        self.alive[col] = True
        self.vel[col] = 0.0
        self.seen[col] = False
        self.first[col] = np.inf
        self.paths.append(np.zeros((0, 3)))
        self.segments.append([])
        self.ids.append(visitor_id)
        return col

    def expire(self, before: float, weak_before: float) -> None:
        """Forget visitors last seen before ``before`` (``weak_before`` for visitors seen only
        in weak tracklets: fragments that never grew into anyone)."""
        n = self.size
        self.alive[:n] &= self.end[:n] >= np.where(self.strong[:n], before, weak_before)
        dead = n - int(self.alive[:n].sum())
        if n > 256 and dead > n // 2:
            keep = np.flatnonzero(self.alive[:n])
            for name in _COLUMNS:
                arr = getattr(self, name)
                arr[: len(keep)] = arr[keep]
            self.paths = [self.paths[i] for i in keep.tolist()]
            self.segments = [self.segments[i] for i in keep.tolist()]
            self.ids = [self.ids[i] for i in keep.tolist()]
            self.size = len(keep)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Distances (m) of two (m, 3) trajectories at a's times within their common times."""
    if len(a) == 0 or len(b) == 0:
        return None
    lo, hi = max(a[0, 0], b[0, 0]), min(a[-1, 0], b[-1, 0])
    sel = a[(a[:, 0] >= lo) & (a[:, 0] <= hi)]
    if len(sel) == 0:
        return None
    bx = np.interp(sel[:, 0], b[:, 0], b[:, 1])
    by = np.interp(sel[:, 0], b[:, 0], b[:, 2])
    return np.asarray(np.hypot(sel[:, 1] - bx, sel[:, 2] - by))


class Stitcher:
    """Online stitching of one site's tracklets (see the module docstring).

    Call :meth:`run` with tracklets as they become available (each call continues from the
    gallery the previous calls left); ``fixed`` rows already have a visitor id (decided by an
    earlier process) and only update the gallery.
    """

    def __init__(
        self,
        topology: CameraTopology,
        settings: StitchSettings,
        dims: int,
        seed: int | None = None,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.topo = topology
        self.settings = settings
        self.gallery = Gallery(dims)
        self._random = Random(seed) if seed is not None else None
        self.peak_gallery = 0
        self.aliases: dict[str, str] = dict(aliases or {})
        """Visitor ids merged into another (id → the id it became): see :meth:`_merge`."""
        self.merged = 0
        self.merged_seen: dict[str, float] = {}
        """Visitor ids merged by this stitcher → when the merged visitor was last seen (s)."""
        self.reentered = 0
        """Visitors recognised as an earlier visitor come back (:meth:`_reenter`)."""
        self._born: dict[str, list[float]] = {}
        """Visitors this stitcher created → [their embedder's baseline, when they were first
        seen the last time they were weighed as a re-entry (NaN: never)]."""
        self._emb32 = np.zeros((0, dims), dtype=np.float32)
        self._has_emb = np.zeros(0, dtype=bool)
        self._quality = np.zeros(0)
        self._baseline = np.zeros(0)

    def _new_id(self) -> str:
        if self._random is None:
            return secrets.token_hex(8)
        return f"{self._random.getrandbits(64):016x}"

    def run(self, t: Tracklets, fixed: dict[int, str] | None = None) -> list[str]:
        """Visitor id of every row of ``t`` (in row order)."""
        # Matrices here are small: BLAS threads cost far more than they save (5x slower).
        with threadpool_limits(1, "blas"):
            return self._run(t, fixed)

    def _run(self, t: Tracklets, fixed: dict[int, str] | None) -> list[str]:
        self._emb32 = t.embedding.astype(np.float32)  # half the memory traffic of float64
        self._has_emb = t.has_embedding
        self._quality = t.quality
        self._baseline = self._baselines(t)
        fixed = fixed or {}
        out = [""] * len(t)
        if not len(t):
            return out
        first_xy = t.first_xy
        last_xy = t.last_xy
        # by end, then start, then key: the same decisions whatever order the rows come in
        # (the database and the message stream list tracklets that end together differently)
        names = np.array([f"{k[0]}/{k[1]}/{k[2]}" for k in t.keys])
        order = np.lexsort((names, t.start, t.end))
        ends = t.end[order]
        delay = self.settings.delay_s
        i = 0
        by_id = {vid: col for col, vid in enumerate(self.gallery.ids)}
        while i < len(order):
            j = int(np.searchsorted(ends, ends[i] + delay, side="right"))
            j = max(j, i + 1)
            rows = order[i:j]
            now = ends[j - 1] + delay
            self.gallery.expire(now - self.settings.ttl_s, now - self.settings.weak_ttl_s)
            if self.gallery.size < len(by_id):  # compacted: rebuild the id lookup
                by_id = {vid: col for col, vid in enumerate(self.gallery.ids)}
            free = []
            for r in rows.tolist():
                if r in fixed:
                    vid = self.resolve(fixed[r])
                    col = by_id.get(vid)
                    if col is None or not self.gallery.alive[col]:
                        col = self.gallery.add(vid)
                        by_id[vid] = col
                    self._join(col, t, r, last_xy)
                    out[r] = vid
                else:
                    free.append(r)
            if free:
                decided = self._decide(np.array(free), t, first_xy, last_xy)
                for r, col in decided:
                    out[r] = self.gallery.ids[col]
                    by_id[out[r]] = col
                if self.settings.merge_fit is not None and self.settings.mode == "combined":
                    self._merge(decided, t, first_xy)
                if self.settings.reentry_window_s is not None and self.settings.mode == "combined":
                    self._reenter(decided)
            self.peak_gallery = max(self.peak_gallery, len(self.gallery))
            i = j
        return [self.resolve(v) for v in out]

    def resolve(self, visitor_id: str) -> str:
        """The id a visitor id stands for now (itself unless it was merged into another)."""
        seen = []
        while visitor_id in self.aliases:
            seen.append(visitor_id)
            visitor_id = self.aliases[visitor_id]
        for old in seen[:-1]:  # shorten chains
            self.aliases[old] = visitor_id
        return visitor_id

    def _merge(self, decided: list[tuple[int, int]], t: Tracklets, first_xy: np.ndarray) -> None:
        """Visitors this batch's tracklets show to be one person become one (module docstring):
        a tracklet that joined visitor V and fits visitor W on the floor too (floor fit above
        ``merge_fit``: a track broken a moment ago, an overlapping view at the same time), where
        V and W were never in two places at once and one of them has no appearance."""
        g = self.gallery
        s = self.settings
        assert s.merge_fit is not None
        for r, col in decided:
            if not g.alive[col]:
                col = self._col_of(self.resolve(g.ids[col]))
            others = np.flatnonzero(g.alive[: g.size])
            others = others[(others != col) & (g.end[others] >= t.start[r] - s.plain_max_gap_s)]
            if g.seen[col]:
                others = others[~g.seen[others]]
            if not len(others):
                continue
            rr = np.full(len(others), r)
            feasible, _, gap, _, agree = self._spacetime(rr, others, t, first_xy)
            fit = self._floor_fit(rr, others, t, first_xy, gap, agree)
            fit = np.where(feasible, fit, -1.0)
            for k in np.argsort(-fit).tolist():
                w = int(others[k])
                if fit[k] <= s.merge_fit or not g.alive[w] or not g.alive[col]:
                    continue
                if g.seen[col] and g.seen[w]:
                    continue  # both have appearance: the joins decided them
                if self._compatible(col, w):
                    col = self._absorb(col, w)

    def _reenter(self, decided: list[tuple[int, int]]) -> None:
        """Visitors who are an earlier visitor come back (``reentry_window_s``): each visitor
        this stitcher created that this batch changed, strong (not a fragment) and first seen
        earlier than when last weighed (a long tracklet is decided at its end), against every
        visitor who left every view before it was first seen, at most ``reentry_window_s``
        earlier and ``reentry_radius_m`` away, both at the edge of the covered floor, never in
        two places at once with it, and alike where both have appearance; one global assignment
        (Hungarian) on distance, gap and appearance decides, and each pair it makes merges (the
        earlier visitor keeps its id)."""
        g = self.gallery
        s = self.settings
        assert s.reentry_window_s is not None
        window = s.reentry_window_s
        ready: list[tuple[int, float, Segment]] = []
        for col in sorted({col for _, col in decided}):
            if not g.alive[col]:
                col = self._col_of(self.resolve(g.ids[col]))
            born = self._born.get(g.ids[col])
            if born is None or not g.strong[col] or born[1] == g.first[col]:
                continue
            born[1] = float(g.first[col])
            seg = min(g.segments[col], key=lambda x: x[1])
            if not len(seg[3]) or any(c == col for c, _, _ in ready):
                continue
            if self.topo.inside(int(self.topo.floor[seg[0]]), seg[3][0, 1:], s.reentry_edge)[0]:
                continue  # first seen in plain view: not someone who came back
            ready.append((col, born[0], seg))
        if len(self._born) > 4 * max(len(g), 256):  # forget the forgotten
            known = {g.ids[c] for c in np.flatnonzero(g.alive[: g.size]).tolist()}
            self._born = {k: v for k, v in self._born.items() if k in known}
        if not ready:
            return
        alive = np.flatnonzero(g.alive[: g.size])
        cost = np.full((len(ready), len(alive)), 1e6)
        theta = s.join_threshold
        for i, (w, base, seg) in enumerate(ready):
            since = float(g.first[w])
            gap = since - g.end[alive]
            cand = (
                (alive != w)
                & g.strong[alive]
                & (g.first[alive] < since)
                & (gap > s.skew_tolerance_s)
                & (gap <= window)
                & (self.topo.floor[g.cam[alive]] == self.topo.floor[seg[0]])
            )
            floor = int(self.topo.floor[seg[0]])
            dist = np.hypot(*(g.xy[alive] - seg[3][0, 1:]).T)
            cand &= dist <= s.reentry_radius_m
            cand[cand] &= ~self.topo.inside(floor, g.xy[alive[cand]], s.reentry_edge)
            for k in np.flatnonzero(cand).tolist():
                v = int(alive[k])
                c = dist[k] / s.reentry_radius_m + gap[k] / window
                if g.seen[v] and g.seen[w]:
                    app = (float(g.emb[v] @ g.emb[w]) - base) / (1.0 - base)
                    if app <= theta - self._most_bonus:
                        continue
                    c -= app
                if self._compatible(v, w):
                    cost[i, k] = c
        rows, cols = linear_sum_assignment(cost)
        for i, k in zip(rows.tolist(), cols.tolist(), strict=True):
            w, v = ready[i][0], int(alive[k])
            # no other candidate fits as well: not another visitor who left (this row), nor
            # another new visitor (this column)
            rivals = min(
                np.delete(cost[i], k).min(initial=1e6), np.delete(cost[:, k], i).min(initial=1e6)
            )
            if cost[i, k] + s.reentry_margin > rivals:
                continue
            if cost[i, k] < 1e5 and g.alive[v] and g.alive[w]:
                self._absorb(v, w)
                self.reentered += 1

    def _col_of(self, visitor_id: str) -> int:
        return next(c for c in range(self.gallery.size) if self.gallery.ids[c] == visitor_id)

    def _compatible(self, a: int, b: int) -> bool:
        """Visitors a and b may be one person: never in two places at once (see
        :meth:`_together`; two tracks of one camera at once are two people here, even if they
        met), and every way between their sightings walkable."""
        g = self.gallery
        s = self.settings
        topo = self.topo
        for sa in g.segments[a]:
            if not self._together(sa, g.segments[b], switch=False)[0]:
                return False
            for sb in g.segments[b]:
                early, late = (sa, sb) if sa[2] <= sb[2] else (sb, sa)
                gap = late[1] - early[2]
                if gap < -s.skew_tolerance_s or not len(early[3]) or not len(late[3]):
                    continue
                if topo.floor[early[0]] != topo.floor[late[0]]:
                    if gap < topo.min_walk_s[early[0], late[0]] - s.skew_tolerance_s:
                        return False
                    continue
                d = float(np.hypot(*(late[3][0, 1:] - early[3][-1, 1:])))
                if d > s.max_speed_mps * (max(gap, 0.0) + s.skew_tolerance_s) + s.position_slack_m:
                    return False
        return True

    def _absorb(self, a: int, b: int) -> int:
        """Merge visitors a and b; the one first seen earlier keeps its id. Its column."""
        g = self.gallery
        keep, gone = (a, b) if g.first[a] <= g.first[b] else (b, a)
        g.sum[keep] += g.sum[gone]
        norm = np.linalg.norm(g.sum[keep])
        if norm > 0:
            g.emb[keep] = g.sum[keep] / norm
        g.seen[keep] |= g.seen[gone]
        g.strong[keep] |= g.strong[gone]
        g.first[keep] = min(g.first[keep], g.first[gone])
        g.segments[keep] = sorted(g.segments[keep] + g.segments[gone], key=lambda x: x[2])
        if g.end[gone] > g.end[keep]:
            for name in ("end", "cam", "xy", "vel"):
                getattr(g, name)[keep] = getattr(g, name)[gone]
            g.paths[keep] = g.paths[gone]
        g.alive[gone] = False
        self.aliases[g.ids[gone]] = g.ids[keep]
        self.merged_seen[g.ids[gone]] = float(g.end[keep])
        self.merged += 1
        return keep

    def _join(self, col: int, t: Tracklets, r: int, last_xy: np.ndarray) -> None:
        g = self.gallery
        g.segments[col].append((int(t.camera[r]), float(t.start[r]), float(t.end[r]), t.paths[r]))
        g.first[col] = min(g.first[col], float(t.start[r]))
        if not self._has_emb[r]:  # no appearance: where and when only
            if t.frames[r] < self.settings.min_plain_frames and g.end[col] > -np.inf:
                return  # a fragment of a few frames takes the id and moves nobody
            g.strong[col] = True if t.frames[r] >= self.settings.min_plain_frames else g.strong[col]
        else:
            weak = bool(t.quality[r] < self.settings.weak_quality)
            if weak and g.end[col] > -np.inf:
                return  # a weak tracklet takes the id and teaches the gallery nothing
            g.strong[col] |= not weak
            g.sum[col] += max(float(t.quality[r]), 0.05) * t.embedding[r]
            norm = np.linalg.norm(g.sum[col])
            g.emb[col] = g.sum[col] / norm if norm > 0 else g.sum[col]
            g.seen[col] |= norm > 0
        if t.end[r] >= g.end[col]:
            g.end[col] = t.end[r]
            g.cam[col] = t.camera[r]
            g.xy[col] = last_xy[r]
            g.vel[col] = _end_velocity(t.paths[r], self.settings.max_speed_mps)
            g.paths[col] = t.paths[r]

    def _decide(
        self, rows: np.ndarray, t: Tracklets, first_xy: np.ndarray, last_xy: np.ndarray
    ) -> list[tuple[int, int]]:
        g = self.gallery
        theta = self.settings.join_threshold
        cols = np.flatnonzero(g.alive[: g.size])
        decided: list[tuple[int, int]] = []
        joined = np.zeros(len(rows), dtype=bool)
        cand = np.zeros((len(rows), len(cols)), dtype=bool)
        if len(cols):
            score = self.score(rows, cols, t, first_xy)
            cand = score > theta
            used = np.flatnonzero(cand.any(axis=0))
            if len(used):
                sub = score[:, used]
                cost = np.where(sub > theta, -sub, 1e6)
                dummy = np.full((len(rows), len(rows)), -theta)
                r_idx, c_idx = linear_sum_assignment(np.hstack([cost, dummy]))
                for a, b in zip(r_idx.tolist(), c_idx.tolist(), strict=True):
                    if b < len(used) and cost[a, b] < 1e5:
                        col = int(cols[used[b]])
                        self._join(col, t, int(rows[a]), last_xy)
                        decided.append((int(rows[a]), col))
                        joined[a] = True
        # Rows the joint assignment left over (a second tracklet of someone in this batch,
        # or somebody new) are decided one by one, in order of their end, against their
        # candidates and the visitors this batch created, as the gallery is now.
        created: list[int] = []
        left = np.flatnonzero(~joined)
        for a in left[np.argsort(t.end[rows[left]], kind="stable")].tolist():
            r = int(rows[a])
            consider = np.concatenate([cols[cand[a]], np.array(created, dtype=np.int64)])
            if len(consider) and self.settings.mode != "spacetime":
                cfg = self.settings
                lenient = cfg.weak_leniency if t.quality[r] < cfg.weak_quality else 0.0
                floor = cfg.join_threshold - self._most_bonus - lenient
                app = self._appearance(np.array([r]), consider)[0]
                consider = consider[app > floor]
            col = -1
            if len(consider):
                s = self.score(np.array([r]), consider, t, first_xy)[0]
                best = int(np.argmax(s))
                if s[best] > theta:
                    col = int(consider[best])
            if col < 0:
                col = g.add(self._new_id())
                created.append(col)
                self._born[g.ids[col]] = [float(self._baseline[r]), np.nan]
            self._join(col, t, r, last_xy)
            decided.append((r, col))
        return decided

    def score(
        self, rows: np.ndarray, cols: np.ndarray, t: Tracklets, first_xy: np.ndarray
    ) -> np.ndarray:
        """Scores (len(rows), len(cols)) of tracklets against visitors; ``_NEVER`` if
        infeasible or hopeless (the mode's score, see the module docstring)."""
        s = self.settings
        g = self.gallery
        mode = s.mode
        out = np.full((len(rows), len(cols)), _NEVER)
        if mode != "spacetime":
            app = self._appearance(rows, cols)
            plain = ~(self._has_emb[rows][:, None] & g.seen[cols][None, :])
        if mode == "appearance":
            return np.asarray(np.where(plain, _NEVER, app))
        if mode == "combined":
            a, b = self._hopeful(rows, cols, t, app)
        else:
            # spacetime joins hand-overs only: a linked, overlapping or the same camera, within
            # the longest walking window
            recent = np.flatnonzero(
                g.end[cols] >= t.start[rows].min() - self._longest_window - 60.0
            )
            linked = self.topo.linked[t.camera[rows][:, None], g.cam[cols[recent]][None, :]]
            a, b = np.nonzero(linked)
            b = recent[b]
        if not len(a):
            return out
        r, c = rows[a], cols[b]
        feasible, plaus, gap, dist, agree = self._spacetime(r, c, t, first_xy)
        if mode == "spacetime":
            tie = 0.1 * np.minimum(gap / 60.0, 1.0) + 0.05 * np.minimum(dist / 20.0, 1.0)
            out[a, b] = np.where(feasible, plaus - tie, _NEVER)
        else:
            bonus = s.spacetime_weight * (plaus - s.neutral_plausibility)
            # without appearance on one side: where on the floor decides (module docstring)
            fit = self._floor_fit(r, c, t, first_xy, gap, agree)
            sure = s.spacetime_weight * (s.sure_plausibility - s.neutral_plausibility)
            bonus = np.where(plain[a, b], sure * fit, bonus)
            out[a, b] = np.where(feasible, app[a, b] + bonus, _NEVER)
        return out

    def _floor_fit(
        self,
        r: np.ndarray,
        c: np.ndarray,
        t: Tracklets,
        first_xy: np.ndarray,
        gap: np.ndarray,
        agree: np.ndarray,
    ) -> np.ndarray:
        """Per (tracklet, visitor) pair, how well the floor positions fit one person, without
        appearance: ≤ 1, positive when they may be joined (see the module docstring)."""
        s = self.settings
        g = self.gallery
        dt = t.start[r] - g.end[c]
        concurrent = dt < -s.skew_tolerance_s
        overlap = self.topo.overlap[t.camera[r], g.cam[c]] & (t.camera[r] != g.cam[c])
        coast = np.minimum(gap, s.plain_coast_s)[:, None]
        expected = g.xy[c] + g.vel[c] * coast
        err = np.hypot(*(first_xy[r] - expected).T)
        allowed = s.plain_radius_m + s.plain_spread_mps * gap
        later = 1.0 - err / allowed - 0.1 * np.minimum(gap / s.plain_max_gap_s, 1.0)
        later = np.where(np.isfinite(later) & (gap <= s.plain_max_gap_s), later, -1.0)
        together = np.where(np.isfinite(agree), 1.0 - agree / s.overlap_agree_m, -1.0)
        return np.asarray(np.where(concurrent, np.where(overlap, together, -1.0), later))

    def _baselines(self, t: Tracklets) -> np.ndarray:
        """Per row, the cosine similarity its embedder gives two different people on average
        (``appearance_baselines``, by the longest name prefix; 0 where not listed)."""
        known = sorted(self.settings.appearance_baselines.items(), key=lambda kv: -len(kv[0]))
        out = np.zeros(len(t))
        cache: dict[str | None, float] = {}
        models = t.models if len(t.models) == len(t) else [None] * len(t)
        for i, name in enumerate(models):
            if name not in cache:
                cache[name] = next((m for k, m in known if name and name.startswith(k)), 0.0)
            out[i] = cache[name]
        return out

    def _appearance(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Appearance scores (len(rows), len(cols)): cosine similarity on one scale for every
        embedder ((cos − m) / (1 − m), m the embedder's different-person mean: 0 for two
        unrelated people, 1 for the same embedding), plus the leniency for a weak tracklet's
        noisier embedding; exactly the threshold where a side has no appearance (see the module
        docstring)."""
        s = self.settings
        g = self.gallery
        # a weak tracklet's embedding is noisier: its own visitor scores lower
        lenient = np.where(self._quality[rows] < s.weak_quality, s.weak_leniency, 0.0)
        cos = self._emb32[rows] @ g.emb[cols].T
        m = self._baseline[rows][:, None]
        app = (cos - m) / (1.0 - m) + lenient[:, None]
        plain = ~(self._has_emb[rows][:, None] & g.seen[cols][None, :])
        return np.asarray(np.where(plain, s.join_threshold, app))

    def _hopeful(
        self, rows: np.ndarray, cols: np.ndarray, t: Tracklets, app: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pairs whose appearance could still reach the threshold with what space and time
        may add: half the weight for a hand-over, more only for a track broken a moment ago on
        the same camera or someone in an overlapping view at the same time."""
        s = self.settings
        g = self.gallery
        theta = s.join_threshold
        keep = app > theta - s.spacetime_weight * (1.0 - s.neutral_plausibility)
        maybe = (app > theta - self._most_bonus) & ~keep
        a2, b2 = np.nonzero(maybe)
        if len(a2):
            r, c = rows[a2], cols[b2]
            close = self.topo.overlap[t.camera[r], g.cam[c]] & (
                g.end[c] >= t.start[r] - 5.0 - s.skew_tolerance_s
            )
            keep[a2[close], b2[close]] = True
        a, b = np.nonzero(keep)
        return a, b

    @property
    def _most_bonus(self) -> float:
        s = self.settings
        bonus = s.spacetime_weight * (s.sure_plausibility - s.neutral_plausibility)
        return bonus if s.mode == "combined" else 0.0

    @property
    def _longest_window(self) -> float:
        return float(self.topo.max_walk_s.max()) if self.topo.max_walk_s.size else 0.0

    def _together(
        self, seg: Segment, segments: list[Segment], switch: bool = True
    ) -> tuple[bool, float]:
        """Whether a tracklet (``seg``) may be the visitor of ``segments`` where they were seen
        at the same time, and the mean distance (m) of its path from the visitor's paths of
        overlapping cameras then (NaN where none): two tracks of one camera at once are two
        people unless they met (an identity switch hands a person from one track to the
        other); a non-overlapping camera at the same time is someone else; an overlapping one
        must agree within ``overlap_agree_m`` on average."""
        s = self.settings
        dists = []
        # segments come in order of their end (to within a decision batch): newest first
        for other in reversed(segments):
            if other[2] < seg[1] - s.delay_s - s.skew_tolerance_s:
                break
            if not _common(seg, other, s.skew_tolerance_s):
                continue
            d = _distances(seg[3], other[3])
            if other[0] == seg[0]:
                if not switch or (d is not None and d.min() > s.switch_radius_m):
                    return False, np.nan
            elif not self.topo.overlap[seg[0], other[0]]:
                return False, np.nan
            elif d is not None:
                dists.append(d)
        if not dists:
            return True, np.nan
        mean = float(np.concatenate(dists).mean())
        return mean <= s.overlap_agree_m, mean

    def _spacetime(
        self, r: np.ndarray, c: np.ndarray, t: Tracklets, first_xy: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (tracklet r[i], visitor c[i]) pair: feasible, plausibility in [0, 1], the
        unseen gap (s), the distance from the last to the first position (m) and, for pairs
        seen at the same time, the mean distance of their paths then (m; NaN otherwise)."""
        s = self.settings
        g = self.gallery
        topo = self.topo
        cam_r = t.camera[r]
        cam_g = g.cam[c]
        dt = t.start[r] - g.end[c]
        gap = np.maximum(dt, 0.0)
        tol = s.skew_tolerance_s
        same_floor = topo.floor[cam_r] == topo.floor[cam_g]
        fx = first_xy[r]
        gx = g.xy[c]
        dist = np.nan_to_num(np.hypot(fx[:, 0] - gx[:, 0], fx[:, 1] - gx[:, 1]), nan=0.0)
        overlap = topo.overlap[cam_r, cam_g]
        linked = topo.linked[cam_r, cam_g]
        window = topo.max_walk_s[cam_r, cam_g]
        min_walk = topo.min_walk_s[cam_r, cam_g]
        concurrent = dt < -tol
        same_cam = cam_r == cam_g
        feasible = ~concurrent | overlap
        if s.mode == "spacetime":  # without appearance an identity switch cannot be told
            feasible &= ~(concurrent & same_cam)
        reach = s.max_speed_mps * (gap + tol) + s.position_slack_m
        feasible &= ~same_floor | concurrent | (dist <= reach)
        feasible &= same_floor | (dt >= np.where(np.isfinite(min_walk), min_walk, 30.0) - tol)
        agree = np.full(len(r), np.nan)
        for i in np.flatnonzero(concurrent & feasible).tolist():
            ri = int(r[i])
            seg = (int(cam_r[i]), float(t.start[ri]), float(t.end[ri]), t.paths[ri])
            feasible[i], agree[i] = self._together(seg, g.segments[int(c[i])])
        handover = (linked & (dt <= window + tol)) | (same_cam & (dt <= 10.0))
        near = same_floor & (dt <= 60.0) & (dist <= 2.0 * (gap + tol) + s.position_slack_m)
        lingering = np.exp(-np.maximum(dt - np.where(linked, window, 0.0), 0.0) / s.long_gap_tau_s)
        plaus = np.where(handover, 1.0, np.where(near, 0.8, 0.5 * lingering))
        # seen by two overlapping cameras at once: as good as a hand-over; two tracks of one
        # camera at once (possible only through an identity switch): unlikely
        plaus = np.where(concurrent, np.where(same_cam, 0.2, s.sure_plausibility), plaus)
        # a track broken for a moment: the same camera, seconds later, where it was lost
        broken = same_cam & ~concurrent & (dt <= 5.0) & (dist <= 2.0)
        plaus = np.where(broken, s.sure_plausibility, plaus)
        return feasible, plaus, gap, dist, agree


def _common(a: Segment, b: Segment, tol: float) -> bool:
    """The two tracklets were seen at the same time (beyond the clock-skew tolerance)."""
    return a[1] < b[2] - tol and b[1] < a[2] - tol


def _end_velocity(path: np.ndarray, max_speed: float, span_s: float = 2.0) -> np.ndarray:
    """Velocity (m/s) over the last ``span_s`` of an (m, 3) (seconds, x, y) path, at most
    ``max_speed``; zero for a path too short to tell."""
    if len(path) < 2:
        return np.zeros(2)
    k = int(np.searchsorted(path[:, 0], path[-1, 0] - span_s))
    k = min(k, len(path) - 2)
    dt = path[-1, 0] - path[k, 0]
    if dt <= 0:
        return np.zeros(2)
    v = (path[-1, 1:] - path[k, 1:]) / dt
    speed = float(np.hypot(*v))
    return np.asarray(v * (max_speed / speed if speed > max_speed else 1.0))


def stitch(
    t: Tracklets, topology: CameraTopology, settings: StitchSettings, seed: int | None = None
) -> list[str]:
    """Visitor ids of all rows of ``t``, stitched in one online pass."""
    dims = t.embedding.shape[1] if len(t) else 1
    return Stitcher(topology, settings, dims, seed).run(t)


__all__ = ["DEFAULT_THRESHOLD", "MODES", "StitchSettings", "Stitcher", "stitch"]
