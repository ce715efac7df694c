"""The manager's figures against the simulator's truth (``footfall simulate --evaluate``):
staff recognised, groups, queue waits, and footfall with staff excluded; over a simulated day,
the site occupancy balance.

* ``staff_precision`` / ``staff_recall`` -- over sightings (detections): of those labelled
  staff, the share that show staff; of those that show staff, the share labelled staff
  (``staff_people_found``: staff whose sightings are mostly labelled staff).
  ``staff_seen_at_work`` and ``staff_sightings_where`` say why staff are missed: the staff
  sightings by where their track was (a staff-only zone, a shop or checkout, the food court,
  ...), labelled or not.
* ``group_count_error`` -- (groups found − true group entries) / true group entries; a true
  group entry is two or more members of one simulated group crossing the same entrance line
  within 5 s of each other. ``group_precision``: the share of groups found whose members' tracks
  show (mostly) people of one simulated group.
* ``queue_wait_error`` -- |mean wait − true mean wait| / true mean wait in the queue zones, the
  truth being every visitor's (not staff) visits of the zone joined as the rule joins them.
* ``footfall_error_with_staff`` / ``footfall_error_staff_excluded`` -- entries on entrance lines
  (one track's entries within 30 s once) against the true entries of visitors, and the same for
  ``unique_visitors_error_*`` (stitched visitors counted by the API's rule) against the visitors
  (not staff) any camera saw.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Container, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cloud.reports import groups as groups_
from cloud.reports import occupancy as occupancy_
from cloud.reports import queues as queues_
from cloud.reports.staff import StaffResult, classify_staff, link_chains
from cloud.reports.types import LocalTrack, TrackCrossing, TrackVisit
from cloud.stitch.tracklets import Tracklets
from cloud.stitch.visitors import counted as counted_visitors
from footfall.evaluation.stitch_metrics import relative_error
from footfall.simulate.people import Person
from footfall.simulate.truth import Truth
from footfall.site import Site, ZoneKind

TRUE_GROUP_WINDOW_S = 5.0
"""Members of one simulated group crossing one entrance line within this of each other entered
together (followers walk 0.3-1.5 s behind their leader)."""
HIDDEN_OUTSIDE_S = 60.0
"""A hidden stretch of a plan longer than this is time outside (a ride is 20 s)."""


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def evaluate_staff(truth: Truth, t: Tracklets, staff: StaffResult) -> dict[str, Any]:
    """Precision and recall of the staff label over sightings (see the module)."""
    staff_people = {p for p, r, _g, _v in truth.people if r == "staff"}
    out: dict[str, Any] = {}
    tp = fp = fn = 0
    labelled: Counter[int] = Counter()
    shown: Counter[int] = Counter()
    for k in t.keys:
        is_staff = staff.is_staff(k[0], k[2])
        for p, n in truth.tracks.get((k[0], k[1], k[2]), Counter()).items():
            s = p in staff_people
            if s:
                shown[p] += n
                labelled[p] += n if is_staff else 0
            if is_staff and s:
                tp += n
            elif is_staff:
                fp += n
            elif s:
                fn += n
    out["staff_precision"] = _ratio(tp, tp + fp)
    out["staff_recall"] = _ratio(tp, tp + fn)
    out["staff_people"] = len(staff_people)
    out["staff_people_found"] = sum(1 for p in staff_people if labelled[p] * 2 > shown[p] > 0)
    out["staff_chains"] = staff.chains
    return out


def evaluate_reporting(
    site: Site,
    truth: Truth,
    t: Tracklets,
    ids: Sequence[str],
    crossings: Sequence[Any],
    visits: Sequence[Any],
) -> dict[str, Any]:
    """Staff, groups, queues and footfall with staff excluded, scored (see the module)."""
    tv = [TrackVisit(v.camera_id, v.track_id, v.zone_id, v.enter_at, v.exit_at) for v in visits]
    tc = [TrackCrossing(c.camera_id, c.track_id, c.line_id, c.at, c.direction) for c in crossings]
    role = {p: r for p, r, _g, _v in truth.people}
    group_of = {p: g for p, _r, g, _v in truth.people}
    staff_people = {p for p, r in role.items() if r == "staff"}
    out: dict[str, Any] = {}

    # staff
    staff = classify_staff(site, t, tv)
    out.update(evaluate_staff(truth, t, staff))
    out.update(staff_sightings_where(site, truth, t, tv, staff_people, staff.tracks))

    # footfall and unique visitors with and without staff
    visitor_of: dict[LocalTrack, str] = {(k[0], k[2]): v for k, v in zip(t.keys, ids, strict=True)}
    lines = groups_.entrance_lines(site)
    true_entries = sum(
        1
        for c in truth.crossings
        if c.line_id in lines and c.direction == 1 and c.person not in staff_people
    )
    seen_people = {p for counts in truth.tracks.values() for p in counts if p >= 0}
    true_visitors = len(seen_people - staff_people)
    for label, skip in (("with_staff", set()), ("staff_excluded", set(staff.tracks))):
        entries = _entries(tc, lines, visitor_of, skip)
        out[f"entries_{label}"] = entries
        out[f"footfall_error_{label}"] = round(relative_error(entries, true_entries), 4)
        spans = [
            (v, s, e)
            for k, v, s, e in zip(t.keys, ids, t.start.tolist(), t.end.tolist(), strict=True)
            if (k[0], k[2]) not in skip
        ]
        unique = len(counted_visitors(spans, site.counting.min_visitor_s))
        out[f"unique_visitors_{label}"] = unique
        out[f"unique_visitors_error_{label}"] = round(relative_error(unique, true_visitors), 4)
    out["true_entries"] = true_entries
    out["true_visitors"] = true_visitors

    # groups
    paths = {(k[0], k[2]): p for k, p in zip(t.keys, t.paths, strict=True)}
    parties = groups_.parties(site, tc, paths)
    found = groups_.summary(parties)
    true_groups = _true_group_entries(site, truth, group_of, lines)
    run_of = {(k[0], k[2]): k[1] for k in t.keys}

    def person(m: LocalTrack) -> int:
        counts = truth.tracks.get((m[0], run_of.get(m, ""), m[1]), Counter())
        return counts.most_common(1)[0][0] if counts else -1

    right = sum(
        1
        for p in parties
        if p.size >= 2 and len({group_of.get(person(m), -1) for m in p.members}) == 1
    )
    out["group_precision"] = _ratio(right, found["groups"])
    out["groups"] = found["groups"]
    out["true_groups"] = true_groups
    out["group_count_error"] = round(relative_error(found["groups"], true_groups), 4)
    out["entries_parties"] = found["entries_parties"]

    # queues: visitors are the chains (conservative), staff left out
    chains = link_chains(t)
    chain_of = {(k[0], k[2]): c for k, c in zip(t.keys, chains, strict=True)}
    ws = queues_.waits(site, tv, chain_of, exclude=staff.tracks)
    true_ws = _true_waits(site, truth, staff_people)
    mean = float(np.mean([w.wait_s for w in ws])) if ws else 0.0
    true_mean = float(np.mean(true_ws)) if true_ws else 0.0
    out["queue_waits"] = len(ws)
    out["true_queue_waits"] = len(true_ws)
    out["mean_queue_wait_s"] = round(mean, 1)
    out["true_mean_queue_wait_s"] = round(true_mean, 1)
    out["queue_wait_error"] = round(abs(relative_error(mean, true_mean)), 4)
    p90 = float(np.quantile([w.wait_s for w in ws], 0.9)) if ws else 0.0
    out["p90_queue_wait_s"] = round(p90, 1)
    out["true_p90_queue_wait_s"] = round(float(np.quantile(true_ws, 0.9)) if true_ws else 0.0, 1)
    return out


WHERE_ORDER = ("staff_only", "stay_zone", "food_court", "restroom", "corridor", "other")
"""Where a sighting was, by the zones its local track visited, the first that applies."""


def staff_sightings_where(
    site: Site,
    truth: Truth,
    t: Tracklets,
    visits: Sequence[TrackVisit],
    staff_people: set[int],
    labelled: Container[LocalTrack],
) -> dict[str, Any]:
    """Why staff are found or missed: the staff sightings by where their local track was
    (:data:`WHERE_ORDER`: a ``staff_only`` zone, a zone of the rules' ``stay_zone_kinds``, the
    food court, a restroom, a corridor, anywhere else) and how many of each were labelled.

    ``staff_seen_at_work`` is the share of staff sightings on tracks that entered a staff-only
    or stay zone: the recall a rule that must see a person at work can reach without following
    them (by appearance) to where they look like any visitor."""
    named = {
        ZoneKind.STAFF_ONLY: "staff_only",
        ZoneKind.FOOD_COURT: "food_court",
        ZoneKind.RESTROOM: "restroom",
        ZoneKind.CORRIDOR: "corridor",
        **{kind: "stay_zone" for kind in site.reporting.staff.stay_zone_kinds},
    }
    where_of_zone = {z.id: named.get(z.kind, "other") for z in site.zones}
    rank = {w: i for i, w in enumerate(WHERE_ORDER)}
    where: dict[LocalTrack, str] = {}
    for v in visits:
        w = where_of_zone.get(v.zone_id, "other")
        if rank[w] < rank[where.get(v.track, "other")]:
            where[v.track] = w
    seen: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for key in t.keys:
        track = (key[0], key[2])
        for p, n in truth.tracks.get((key[0], key[1], key[2]), Counter()).items():
            if p in staff_people:
                w = where.get(track, "other")
                seen[w] += n
                found[w] += n if track in labelled else 0
    total = sum(seen.values())
    at_work = seen["staff_only"] + seen["stay_zone"]
    return {
        "staff_sightings": total,
        "staff_seen_at_work": _ratio(at_work, total),
        "staff_sightings_where": {
            w: {"sightings": seen[w], "labelled": found[w]} for w in WHERE_ORDER if seen[w]
        },
    }


def _entries(
    crossings: Sequence[TrackCrossing],
    lines: set[str],
    visitor_of: dict[LocalTrack, str],
    skip: set[LocalTrack],
) -> int:
    rows = sorted(
        (visitor_of.get(c.track, f"{c.camera_id}/{c.track_id}"), c.line_id, c.at)
        for c in crossings
        if c.line_id in lines and c.direction == 1 and c.track not in skip
    )
    counted = 0
    last: dict[tuple[str, str], datetime] = {}
    for vid, line, at in rows:
        prev = last.get((vid, line))
        if prev is None or (at - prev).total_seconds() > 30.0:
            counted += 1
        last[(vid, line)] = at
    return counted


def _true_group_entries(site: Site, truth: Truth, group_of: dict[int, int], lines: set[str]) -> int:
    window = TRUE_GROUP_WINDOW_S
    sizes = Counter(group_of.values())
    by: dict[tuple[int, str], list[tuple[datetime, int]]] = defaultdict(list)
    for c in truth.crossings:
        g = group_of.get(c.person)
        if c.line_id in lines and c.direction == 1 and g is not None and sizes[g] >= 2:
            by[(g, c.line_id)].append((c.at, c.person))
    n = 0
    for items in by.values():
        items.sort()
        run = {items[0][1]}
        for (a, _), (b, p) in itertools.pairwise(items):
            if (b - a).total_seconds() <= window:
                run.add(p)
            else:
                n += len(run) >= 2
                run = {p}
        n += len(run) >= 2
    return n


def _true_waits(site: Site, truth: Truth, staff: set[int]) -> list[float]:
    rules = site.reporting.queues
    zones = set(queues_.queue_zones(site))
    spans: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    for v in truth.visits:
        if v.zone_id in zones and v.person not in staff:
            spans[(v.zone_id, v.person)].append((v.enter_at.timestamp(), v.exit_at.timestamp()))
    out = []
    for iv in spans.values():
        iv.sort()
        lo, hi = iv[0]
        for a, b in [*iv[1:], (float("inf"), float("inf"))]:
            if a - hi <= rules.join_gap_s:
                hi = max(hi, b)
                continue
            if hi - lo >= rules.min_wait_s:
                out.append(hi - lo)
            lo, hi = a, b
    return out


def true_inside(people: Sequence[Person], t0: datetime, minutes: Sequence[datetime]) -> list[int]:
    """Visitors (not staff) inside the site at each minute, from their plans."""
    ts = np.array([(m - t0).total_seconds() for m in minutes])
    inside = np.zeros(len(ts), dtype=np.int64)
    for p in people:
        if p.role != "visitor":
            continue
        pt = np.asarray(p.plan.t)
        vis = np.asarray(p.plan.visible)
        i = np.searchsorted(pt, ts, side="right") - 1
        ok = (i >= 0) & (i < len(pt) - 1)
        ic = np.clip(i, 0, max(len(pt) - 2, 0))
        seg = pt[np.minimum(ic + 1, len(pt) - 1)] - pt[ic]
        inside += ok & (vis[ic] | (seg <= HIDDEN_OUTSIDE_S))
    return inside.tolist()


def evaluate_occupancy(
    site: Site,
    people: Sequence[Person],
    t0: datetime,
    duration_s: float,
    crossings: Sequence[Any],
    visits: Sequence[Any],
) -> dict[str, Any]:
    """Raw and balanced site occupancy against the truth, minute by minute, over the window."""
    n = int(duration_s // 60)
    minutes = [t0 + timedelta(minutes=i) for i in range(n)]
    start = t0.timestamp()
    lines = groups_.entrance_lines(site)
    ins = np.zeros(n, dtype=np.int64)
    outs = np.zeros(n, dtype=np.int64)
    for c in crossings:
        m = int((c.at.timestamp() - start) // 60)
        if c.line_id in lines and 0 <= m < n:
            (ins if c.direction == 1 else outs)[m] += 1
    top = set(occupancy_.top_level_zones(site))
    seen = np.zeros(n, dtype=np.int64)
    for v in visits:
        if v.zone_id not in top:
            continue
        a = int(np.ceil((v.enter_at.timestamp() - start) / 60))
        b = int((v.exit_at.timestamp() - start) // 60)
        if b >= a:
            seen[max(a, 0) : min(b + 1, n)] += 1
    bal_ = occupancy_.balance(site, minutes, ins.tolist(), outs.tolist(), seen.tolist())
    true = np.array(true_inside(people, t0, minutes))
    raw = np.array(bal_.raw)
    bal = np.array(bal_.balanced)
    return {
        "minutes": n,
        "true_peak": int(true.max()) if n else 0,
        "raw_mae": round(float(np.abs(raw - true).mean()), 1) if n else 0.0,
        "balanced_mae": round(float(np.abs(bal - true).mean()), 1) if n else 0.0,
        "raw_min": int(raw.min()) if n else 0,
        "raw_at_end": int(raw[-1]) if n else 0,
        "balanced_at_end": int(bal[-1]) if n else 0,
        "true_at_end": int(true[-1]) if n else 0,
        "residual_at_close": bal_.residual,
    }
