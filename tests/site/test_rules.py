"""The counting rules in one place (footfall.site.rules): the plain step test, crossings with
hysteresis, the zone-visit rule on seconds and on datetimes, and the site's ``counting:``
section."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from footfall.simulate.truth import person_truth
from footfall.site import CountingLine, CountingRules, Side, SiteConfigError, load_site
from footfall.site.rules import (
    ESTABLISH_S,
    MIN_VISITOR_S,
    LineState,
    Track,
    line_crossings,
    resume_crossings,
    step_crossings,
    stored_counting_rules,
    visit_runs,
    zone_visits,
)

DEMO = Path(__file__).parents[2] / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_a_step_through_an_end_of_the_line_counts_whichever_way_it_goes() -> None:
    """The simulator's truth counted a step passing exactly through an end of the segment only
    in one of the two directions (its copy tested ``(t0 > 0) != (t1 > 0)``, the site model's
    accepted ``t0 == 0``); the one rule counts the closed segment both ways."""
    line = CountingLine(id="door", floor="l0", a=(0, 0), b=(10, 0), in_side=Side.RIGHT)
    for start, end in (((-1, -1), (1, 1)), ((11, -1), (9, 1))):  # through a, through b
        there = line.crossing(start, end)
        back = line.crossing(end, start)
        assert {there, back} == {1, -1}
        idx, direction = step_crossings(
            line, np.array([start[0], end[0], start[0]]), np.array([start[1], end[1], start[1]])
        )
        assert idx.tolist() == [1, 2]
        assert direction.tolist() == [there, back]


def test_step_crossings_agree_with_the_site_models_crossing_on_random_paths() -> None:
    rng = np.random.default_rng(5)
    line = CountingLine(id="door", floor="l0", a=(2, 3), b=(8, 4), in_side=Side.LEFT)
    # Coarse grid: many steps pass exactly through an end or start on the line.
    x = rng.integers(0, 11, 2000).astype(float)
    y = rng.integers(0, 8, 2000).astype(float)
    idx, direction = step_crossings(line, x, y)
    expected = [
        (i + 1, d)
        for i, (p, q) in enumerate(itertools.pairwise(zip(x.tolist(), y.tolist(), strict=True)))
        if (d := line.crossing(p, q))
    ]
    assert list(zip(idx.tolist(), direction.tolist(), strict=True)) == expected
    assert len(expected) > 50


def test_visit_rule_is_the_same_on_seconds_and_on_datetimes_at_its_edges() -> None:
    """Gaps of exactly ``visit_gap_s`` keep a visit and visits of exactly ``min_visit_s`` count,
    on float seconds (the truth) and on datetimes (the cloud) alike."""
    site = load_site(DEMO)
    zone = site.zones[0]
    x0, y0 = zone.shape().representative_point().coords[0]
    rules = CountingRules(min_visit_s=5.0, visit_gap_s=2.0)
    # inside at 0..5 s every 1 s; a gap of exactly 2 s; 7..9; a gap of 2.5 s; 11.5..16.5.
    seconds = np.array([0, 1, 2, 3, 4, 5, 7, 8, 9, 11.5, 12.5, 14.5, 16.5])
    starts, ends, long = visit_runs(seconds, rules.visit_gap_s, rules.min_visit_s)
    runs = [(seconds[s], seconds[e]) for s, e in zip(starts[long], ends[long], strict=True)]
    assert runs == [(0.0, 9.0), (11.5, 16.5)]
    track = Track.columns(
        [T0 + timedelta(seconds=float(s)) for s in seconds],
        [zone.floor] * len(seconds),
        [x0] * len(seconds),
        [y0] * len(seconds),
    )
    visits = zone_visits(track, zone, rules.min_visit_s, rules.visit_gap_s)
    assert [
        ((v.enter_at - T0).total_seconds(), (v.exit_at - T0).total_seconds()) for v in visits
    ] == runs


def test_the_truth_follows_the_sites_counting_section() -> None:
    site = load_site(DEMO)
    zone = site.zones[0]
    x0, y0 = zone.shape().representative_point().coords[0]
    times = np.arange(0.0, 3.0, 0.5)  # 2.5 s inside
    args = (
        [site.floors[0].id],
        0,
        times,
        np.zeros(len(times), dtype=int),
        np.full(len(times), x0),
        np.full(len(times), y0),
        T0,
    )
    zone_floor = site.floors[0].id
    assert zone.floor == zone_floor
    assert not person_truth(site, *args)[1]  # default: visits need 5 s
    short = site.model_copy(update={"counting": CountingRules(min_visit_s=2.0)})
    (visit,) = person_truth(short, *args)[1]
    assert visit.dwell_s == 2.5


def write_site(tmp_path: Path, counting: object) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    base = DEMO.parent
    for camera in data["cameras"]:  # keep relative sources pointing where they did
        source = camera["source"]
        if "://" not in source:
            camera["source"] = str((base / source).resolve())
    data["counting"] = counting
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_counting_section_defaults_and_validation(tmp_path: Path) -> None:
    assert load_site(DEMO).counting == CountingRules()
    assert CountingRules() == CountingRules(
        line_hysteresis_m=0.3,
        line_establish_s=ESTABLISH_S,
        min_visit_s=5.0,
        visit_gap_s=2.0,
        heatmap_cell_m=0.5,
    )
    site = load_site(write_site(tmp_path, {"heatmap_cell_m": 1, "min_visit_s": 3}))
    assert (site.counting.heatmap_cell_m, site.counting.min_visit_s) == (1.0, 3.0)
    assert site.counting.line_hysteresis_m == 0.3
    with pytest.raises(SiteConfigError) as info:
        load_site(write_site(tmp_path, {"min_visit": 3, "heatmap_cell_m": 0}))
    text = str(info.value)
    assert "counting.min_visit: unknown field 'min_visit' — did you mean 'min_visit_s'?" in text
    assert "counting.heatmap_cell_m" in text
    with pytest.raises(SiteConfigError, match=r"counting\.visit_gap_s"):
        load_site(write_site(tmp_path, {"visit_gap_s": "2"}))  # text is not a number


# --- crossings between established sides (line_establish_s) ----------------------------------

# A door line x = 0 from y = 0 to y = 10; walking a -> b (+y), larger x is on the left: "in".
DOOR = CountingLine(id="door", floor="l0", a=(0, 0), b=(0, 10), in_side=Side.LEFT)
H = 0.3


def path(*xs: float, fps: float = 2.0, start_s: float = 0.0, y: float = 5.0) -> Track:
    """A track at ``xs`` metres from the door (one point a frame), beside its middle."""
    at = [T0 + timedelta(seconds=start_s + i / fps) for i in range(len(xs))]
    return Track.columns(at, ["l0"] * len(xs), list(xs), [y] * len(xs))


def join(*tracks: Track) -> Track:
    return Track(
        [t for tr in tracks for t in tr.at],
        np.concatenate([tr.floor for tr in tracks]),
        np.concatenate([tr.x for tr in tracks]),
        np.concatenate([tr.y for tr in tracks]),
    )


def test_a_walk_across_counts_once_at_the_first_point_past_the_line() -> None:
    """1.2 m/s at 2 fps from 3 m out to 3 m in: one crossing, dated where the plain rule dates
    it (the first point line_hysteresis_m past the line), not when the side is established."""
    walk = path(*np.arange(-3.0, 3.01, 0.6))
    (crossing,) = line_crossings(walk, DOOR, H, ESTABLISH_S)
    first_in = int(np.flatnonzero(walk.x >= H)[0])
    assert (crossing.direction, crossing.at) == (1, walk.at[first_in])
    assert line_crossings(walk, DOOR, H, 0.0) == [crossing]


def test_a_track_that_jumps_across_the_line_at_an_identity_switch_is_not_counted() -> None:
    """TUD-Stadtmitte's floor midline counted 4 in / 2 out for 2 / 0 true: tracks that jumped
    across the line onto another person (or a noisy box) for a moment, then back or lost. A side
    counts only once the track was seen on it for line_establish_s."""
    before = path(*[-4.0] * 10)  # 4.5 s out
    jump = path(3.0, 3.1, start_s=5.0, fps=4.0)  # an identity switch: 0.25 s on the other side...
    back = path(*[-4.0] * 6, start_s=6.0)  # ...and back to the first person
    for track in (join(before, jump, back), join(before, jump)):  # back, or lost at once
        assert line_crossings(track, DOOR, H, ESTABLISH_S) == []
        assert len(line_crossings(track, DOOR, H, 0.0)) >= 1  # the plain rule counted it
    # A track that starts past the line (a new id after a switch) and stays: never counted.
    assert line_crossings(path(*[3.0] * 20), DOOR, H, ESTABLISH_S) == []
    # A dip just past the line, at 25 fps, for 0.36 s (a noisy box).
    dip = join(
        path(*[2.0] * 25, fps=25),
        path(*[-0.4] * 10, fps=25, start_s=1.0),
        path(*[2.0] * 25, fps=25, start_s=1.4),
    )
    assert line_crossings(dip, DOOR, H, ESTABLISH_S) == []
    assert len(line_crossings(dip, DOOR, H, 0.0)) == 2


def test_establishing_counts_seconds_of_confirmed_points_at_its_edge() -> None:
    """Exactly line_establish_s from the first confirming point to a later one establishes;
    points nearer the line than line_hysteresis_m neither confirm nor interrupt."""
    est = 1.0
    out = path(*[-2.0] * 4)  # 0 .. 1.5 s
    near = path(0.1, -0.1, 0.2, start_s=2.0)  # on the line: changes nothing
    inside = path(1.0, 0.0, 1.0, start_s=3.5)  # 3.5, 4.0, 4.5 s: 1.0 s of confirmed "in"
    (c,) = line_crossings(join(out, near, inside), DOOR, H, est)
    assert (c.direction, c.at) == (1, inside.at[0])
    short = path(1.0, 0.0, 1.0, start_s=3.5, fps=2.0 / 0.999)  # 0.999 s: not yet
    assert line_crossings(join(out, near, short), DOOR, H, est) == []
    # A confirming point of the other side in between starts the time again.
    broken = join(out, path(1.0, start_s=3.5), path(-1.0, start_s=4.0), path(1.0, start_s=4.5))
    assert line_crossings(broken, DOOR, H, est) == []


def test_resuming_at_every_cut_gives_the_crossings_of_the_whole() -> None:
    """A trajectory cut into consecutive parts (the cloud derives each as it arrives) gives the
    same crossings, with the same times, as the whole: a side pending at a cut keeps its first
    time in the state, and the crossing found later is dated then."""
    rng = np.random.default_rng(3)
    xs = np.cumsum(rng.normal(0.0, 0.5, 400))  # a jittery walk back and forth over the door
    track = path(*xs.tolist(), fps=4.0)
    whole = line_crossings(track, DOOR, H, ESTABLISH_S)
    assert len(whole) >= 4
    for cut in range(len(track) + 1):
        first = Track(track.at[:cut], track.floor[:cut], track.x[:cut], track.y[:cut])
        rest = Track(track.at[cut:], track.floor[cut:], track.x[cut:], track.y[cut:])
        a, state = resume_crossings(first, DOOR, H, ESTABLISH_S, LineState())
        b, _ = resume_crossings(rest, DOOR, H, ESTABLISH_S, state)
        assert a + b == whole, cut


def test_rules_recorded_before_line_establish_s_read_as_derived_without_it() -> None:
    """Rules stored before the setting existed (site_rules rows) were applied with every
    confirmed side counting at once: they read as line_establish_s 0, so they differ from
    today's default and the cloud asks for footfall cloud recompute --adopt-rules."""
    old = {"line_hysteresis_m": 0.3, "min_visit_s": 5.0, "visit_gap_s": 2.0, "heatmap_cell_m": 0.5}
    assert stored_counting_rules(old) == CountingRules(line_establish_s=0.0)
    assert stored_counting_rules(old) != CountingRules()
    assert stored_counting_rules(CountingRules().model_dump()) == CountingRules()


def test_the_unique_visitor_threshold_is_a_site_setting(tmp_path: Path) -> None:
    """counting.min_visitor_s (default 12 s) is the site's; rules recorded before it existed
    read as the default, which changes no derived row, so their data stays valid."""
    assert CountingRules().min_visitor_s == MIN_VISITOR_S == 12.0
    site = load_site(write_site(tmp_path, {"min_visitor_s": 4}))
    assert site.counting.min_visitor_s == 4.0
    with pytest.raises(SiteConfigError, match=r"counting\.min_visitor_s"):
        load_site(write_site(tmp_path, {"min_visitor_s": -1}))
    old = CountingRules().model_dump()
    del old["min_visitor_s"]
    assert stored_counting_rules(old) == CountingRules()
