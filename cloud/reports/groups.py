"""Groups: people who enter together and move together count as one party (a buying unit).

Entries are crossings into the site on the counting lines of entrance zones. Entries on one line
at most ``entry_window_s`` apart are candidates (a shared entrance crossing); two of them are
together when, over the first ``together_s`` seconds after the later entry, their tracks stay
within ``distance_m`` of each other (at every one of the first track's sample times, the other's
position interpolated; at least two samples) and, over a second or more, their distance drifts
by at most ``max_drift_mps`` (the slope of a line fitted to it): a group walks at one pace, two
strangers who came through the door together at two. A group is a set of candidates joined by
"together", of at most ``max_size`` (:class:`footfall.site.reporting.GroupRules`). Everyone
else is a party of one, so entries as parties = groups + people entering alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cloud.reports.types import LocalTrack, TrackCrossing
from footfall.site import Site, ZoneKind
from footfall.site.reporting import GroupRules

MIN_SAMPLES = 2
DRIFT_MIN_S = 1.0
"""The drift test needs shared samples spanning at least this long, seconds."""


def entrance_lines(site: Site) -> set[str]:
    """The counting lines of entrance zones: crossings in on them are entries into the site."""
    return {
        ln.id
        for ln in site.lines
        if ln.zone is not None and site.zone(ln.zone).kind == ZoneKind.ENTRANCE
    }


@dataclass(frozen=True)
class Party:
    line_id: str
    at_s: float
    """Seconds since the epoch of the first member's entry."""
    members: tuple[LocalTrack, ...]

    @property
    def size(self) -> int:
        return len(self.members)


def _together(a: np.ndarray, b: np.ndarray, since: float, rules: GroupRules) -> bool:
    """Paths (m, 3) of (seconds, x, y): within distance_m throughout together_s after since."""
    sel = (a[:, 0] >= since) & (a[:, 0] <= since + rules.together_s)
    sel &= (a[:, 0] >= b[0, 0]) & (a[:, 0] <= b[-1, 0])
    ts = a[sel, 0]
    if len(ts) < MIN_SAMPLES:
        return False
    bx = np.interp(ts, b[:, 0], b[:, 1])
    by = np.interp(ts, b[:, 0], b[:, 2])
    d = np.hypot(a[sel, 1] - bx, a[sel, 2] - by)
    if d.max() > rules.distance_m:
        return False
    span = float(ts[-1] - ts[0])
    if span < DRIFT_MIN_S:
        return True
    slope = float(np.polyfit(ts - ts[0], d, 1)[0])
    return abs(slope) <= rules.max_drift_mps


def parties(
    site: Site,
    crossings: Sequence[TrackCrossing],
    paths: Mapping[LocalTrack, np.ndarray],
    rules: GroupRules | None = None,
) -> list[Party]:
    """Entries into the site as parties (groups and people alone), in time order."""
    rules = rules or site.reporting.groups
    lines = entrance_lines(site)
    entries = sorted(
        (c.at.timestamp(), c.line_id, c.track)
        for c in crossings
        if c.direction == 1 and c.line_id in lines
    )
    seen: dict[LocalTrack, float] = {}
    by_line: dict[str, list[tuple[float, LocalTrack]]] = {}
    for at, line, track in entries:
        if track in seen and at - seen[track] < 30.0:
            continue  # one track's entries within 30 s are one entry
        seen[track] = at
        by_line.setdefault(line, []).append((at, track))
    out: list[Party] = []
    for line, items in by_line.items():
        i = 0
        while i < len(items):
            j = i + 1
            while j < len(items) and items[j][0] - items[j - 1][0] <= rules.entry_window_s:
                j += 1
            out += _split(line, items[i:j], paths, rules)
            i = j
    out.sort(key=lambda p: p.at_s)
    return out


def _split(
    line: str,
    items: list[tuple[float, LocalTrack]],
    paths: Mapping[LocalTrack, np.ndarray],
    rules: GroupRules,
) -> list[Party]:
    """One run of close entries as parties: union of the pairs that move together."""
    n = len(items)
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a in range(n):
        for b in range(a + 1, n):
            if items[b][0] - items[a][0] > rules.entry_window_s:
                break
            pa, pb = paths.get(items[a][1]), paths.get(items[b][1])
            if pa is None or pb is None or not len(pa) or not len(pb):
                continue
            if items[a][1][1] == items[b][1][1] and items[a][1][0] == items[b][1][0]:
                continue
            if _together(pa, pb, items[b][0], rules):
                ra, rb = root(a), root(b)
                size_a = sum(1 for k in range(n) if root(k) == ra)
                size_b = sum(1 for k in range(n) if root(k) == rb)
                if ra != rb and size_a + size_b <= rules.max_size:
                    parent[rb] = ra
    groups: dict[int, list[tuple[float, LocalTrack]]] = {}
    for k in range(n):
        groups.setdefault(root(k), []).append(items[k])
    return [Party(line, members[0][0], tuple(m[1] for m in members)) for members in groups.values()]


def summary(ps: Sequence[Party]) -> dict[str, int]:
    """Entries as people and as parties; groups (parties of two or more) and their members."""
    groups = [p for p in ps if p.size >= 2]
    return {
        "entries_people": sum(p.size for p in ps),
        "entries_parties": len(ps),
        "groups": len(groups),
        "people_in_groups": sum(p.size for p in groups),
    }
