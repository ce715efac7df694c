"""The stored rows the report endpoints read (staff, groups, queues, balanced occupancy), and the
figures computed from them with :mod:`cloud.reports` (one function per endpoint)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from cloud.api.params import TimeRange
from cloud.reports import groups as groups_
from cloud.reports import occupancy as occupancy_
from cloud.reports import queues as queues_
from cloud.reports.staff import StaffResult, classify_staff
from cloud.reports.types import LocalTrack, TrackCrossing, TrackVisit
from cloud.stitch.store import load_tracklets
from cloud.stitch.tracklets import Tracklets
from cloud.stitch.visitors import counted
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]
LOOK_BACK = timedelta(hours=12)
"""Tracks that began up to this long before a range are read too (a shift began earlier)."""


@dataclass
class Stored:
    t: Tracklets
    visits: list[TrackVisit]
    crossings: list[TrackCrossing]
    visitor_of: dict[LocalTrack, str]
    staff: StaffResult


def load(conn: Conn, site: Site, lo: datetime, hi: datetime) -> Stored:
    """Tracklets, visits, crossings and stitched ids around [lo, hi), with the staff found."""
    t = load_tracklets(conn, site, lo - LOOK_BACK, hi + LOOK_BACK)
    p = {"site": site.id, "lo": lo - LOOK_BACK, "hi": hi + LOOK_BACK}
    vi: list[Any] = conn.execute(
        "SELECT camera_id, track_id, zone_id, enter_at, exit_at FROM zone_visit "
        "WHERE site_id = %(site)s AND enter_at >= %(lo)s AND enter_at < %(hi)s",
        p,
    ).fetchall()
    cr: list[Any] = conn.execute(
        "SELECT camera_id, track_id, line_id, at, direction FROM line_crossing "
        "WHERE site_id = %(site)s AND at >= %(lo)s AND at < %(hi)s",
        p,
    ).fetchall()
    ids: list[Any] = conn.execute(
        "SELECT camera_id, track_id, visitor_id FROM tracklet_visitor "
        "WHERE site_id = %(site)s AND mode = 'combined' AND started_at >= %(lo)s "
        "AND started_at < %(hi)s",
        p,
    ).fetchall()
    visits = [TrackVisit(*r) for r in vi]
    staff = classify_staff(site, t, visits)
    recorded: list[Any] = conn.execute(
        "SELECT camera_id, track_id, rule FROM staff_track "
        "WHERE site_id = %(site)s AND started_at >= %(lo)s AND started_at < %(hi)s",
        p,
    ).fetchall()
    for camera, track, rule in recorded:  # found by earlier staff passes (a longer look back)
        staff.tracks.setdefault((camera, track), rule)
    return Stored(
        t,
        visits,
        [TrackCrossing(*r) for r in cr],
        {(r[0], r[1]): str(r[2]) for r in ids},
        staff,
    )


def staff(conn: Conn, site: Site, r: TimeRange) -> dict[str, Any]:
    s = load(conn, site, r.start, r.end)
    lo, hi = r.start.timestamp(), r.end.timestamp()
    lines = groups_.entrance_lines(site)
    out: dict[str, Any] = {
        "staff_tracks": sum(
            1
            for k, a, b in zip(s.t.keys, s.t.start.tolist(), s.t.end.tolist(), strict=True)
            if (k[0], k[2]) in s.staff.tracks and a < hi and b >= lo
        ),
        "staff_chains": s.staff.chains,
        "by_rule": dict(Counter(s.staff.tracks.values())),
    }
    for label, skip in (("with_staff", set()), ("staff_excluded", set(s.staff.tracks))):
        spans = [
            (s.visitor_of.get((k[0], k[2]), f"{k[0]}/{k[2]}"), a, b)
            for k, a, b in zip(s.t.keys, s.t.start.tolist(), s.t.end.tolist(), strict=True)
            if (k[0], k[2]) not in skip and a < hi and b >= lo
        ]
        out[f"unique_visitors_{label}"] = len(counted(spans, site.counting.min_visitor_s))
        out[f"entries_{label}"] = sum(
            1
            for c in s.crossings
            if c.direction == 1
            and c.line_id in lines
            and c.track not in skip
            and r.start <= c.at < r.end
        )
        visits = [
            v.exit_at.timestamp() - v.enter_at.timestamp()
            for v in s.visits
            if v.track not in skip and r.start <= v.enter_at < r.end
        ]
        out[f"zone_visits_{label}"] = len(visits)
        out[f"mean_dwell_s_{label}"] = round(sum(visits) / len(visits), 1) if visits else None
    return out


def _buckets(r: TimeRange) -> list[datetime]:
    out = []
    at = r.start
    while at < r.end:
        out.append(at)
        at = at + r.bucket
    return out


def _bucket_of(edges: list[datetime], at: datetime) -> int:
    lo, hi = 0, len(edges) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if edges[mid] <= at:
            lo = mid
        else:
            hi = mid - 1
    return lo


def groups(conn: Conn, site: Site, r: TimeRange) -> list[dict[str, Any]]:
    s = load(conn, site, r.start, r.end)
    paths = {(k[0], k[2]): p for k, p in zip(s.t.keys, s.t.paths, strict=True)}
    crossings = [
        c for c in s.crossings if r.start <= c.at < r.end and c.track not in s.staff.tracks
    ]
    edges = _buckets(r)
    per: dict[int, list[groups_.Party]] = defaultdict(list)
    for party in groups_.parties(site, crossings, paths):
        at = datetime.fromtimestamp(party.at_s, r.start.tzinfo)
        per[_bucket_of(edges, at)].append(party)
    rows = []
    for i, edge in enumerate(edges):
        rows.append({"bucket": edge, **groups_.summary(per.get(i, []))})
    return rows


def queues(conn: Conn, site: Site, r: TimeRange, now: datetime) -> dict[str, Any]:
    s = load(conn, site, r.start, r.end)
    from cloud.reports.staff import link_chains

    chain_of = {(k[0], k[2]): c for k, c in zip(s.t.keys, link_chains(s.t), strict=True)}
    ws = queues_.waits(site, s.visits, chain_of, exclude=s.staff.tracks)
    zones = queues_.queue_zones(site)
    edges = _buckets(r)
    rows = []
    starts = [e.timestamp() for e in edges]
    for zone in zones:
        peaks = queues_.peak_lengths(ws, zone, starts)
        per: dict[int, list[queues_.Wait]] = defaultdict(list)
        for w in ws:
            left = datetime.fromtimestamp(w.left_s, r.start.tzinfo)
            if w.zone_id == zone and r.start <= left < r.end:
                per[_bucket_of(edges, left)].append(w)
        for i, edge in enumerate(edges):
            rows.append(
                {
                    "bucket": edge,
                    "zone_id": zone,
                    "length": peaks[i],
                    **queues_.stats(per.get(i, [])),
                }
            )
    live = []
    recent = now.timestamp() - 900.0
    for zone in zones:
        waiting = [w for w in ws if w.zone_id == zone and w.joined_s <= now.timestamp() < w.left_s]
        done = [w for w in ws if w.zone_id == zone and recent <= w.left_s <= now.timestamp()]
        live.append(
            {
                "zone_id": zone,
                "length": len(waiting),
                "longest_wait_now_s": round(
                    max((now.timestamp() - w.joined_s for w in waiting), default=0.0), 1
                ),
                "last_15m": queues_.stats(done),
            }
        )
    return {"zones": zones, "rows": rows, "live": live}


def occupancy_site(conn: Conn, site: Site, day_start: datetime) -> dict[str, Any]:
    """The balanced site occupancy of one site-local day, minute by minute."""
    end = day_start + timedelta(days=1)
    lines = sorted(groups_.entrance_lines(site))
    top = occupancy_.top_level_zones(site)
    fm: list[Any] = conn.execute(
        "SELECT minute, sum(ins)::int, sum(outs)::int FROM footfall_minute WHERE site_id = %s "
        "AND line_id = ANY(%s) AND minute >= %s AND minute < %s GROUP BY 1",
        (site.id, lines, day_start, end),
    ).fetchall()
    om: list[Any] = conn.execute(
        "SELECT minute, sum(occupancy)::int FROM occupancy_minute WHERE site_id = %s "
        "AND zone_id = ANY(%s) AND minute >= %s AND minute < %s GROUP BY 1",
        (site.id, top, day_start, end),
    ).fetchall()
    flows = {row[0]: (row[1], row[2]) for row in fm}
    seen = {row[0]: row[1] for row in om}
    known = sorted(set(flows) | set(seen))
    if not known:
        return {"minutes": [], "residual": None}
    minutes = []
    opens = datetime.combine(day_start.date(), site.reporting.occupancy.opens_at, day_start.tzinfo)
    at = min(known[0], max(opens, day_start))
    last = known[-1]
    while at <= last:
        minutes.append(at)
        at += timedelta(minutes=1)
    b = occupancy_.balance(
        site,
        minutes,
        [flows.get(m, (0, 0))[0] for m in minutes],
        [flows.get(m, (0, 0))[1] for m in minutes],
        [seen.get(m, 0) for m in minutes],
    )
    return {
        "minutes": [
            {"minute": m, "raw": raw, "balanced": bal, "seen": sn}
            for m, raw, bal, sn in zip(b.minutes, b.raw, b.balanced, b.seen, strict=True)
        ],
        "residual": b.residual,
    }
