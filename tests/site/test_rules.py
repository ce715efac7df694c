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
from footfall.site.rules import Track, step_crossings, visit_runs, zone_visits

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
        line_hysteresis_m=0.3, min_visit_s=5.0, visit_gap_s=2.0, heatmap_cell_m=0.5
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
