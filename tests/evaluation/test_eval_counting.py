"""True against system counts through the cloud's counting logic, on hand-made tracks."""

from __future__ import annotations

import numpy as np

from footfall.evaluation.counting import compare, image_tracks
from footfall.evaluation.manifest import Counting, ImageLine, ImageZone
from footfall.evaluation.runner import image_geometry
from footfall.site import CountingRules

FPS = 10.0
RULES = CountingRules.model_construct(
    line_hysteresis_m=5.0, line_establish_s=0.5, min_visit_s=0.5, visit_gap_s=0.5
)
COUNTING = Counting(
    lines=[ImageLine(id="mid", a=(100, 0), b=(100, 400), in_side="left")],  # in = walking right
    zones=[ImageZone(id="box", polygon=[(50, 0), (150, 0), (150, 400), (50, 400)])],
)


def walker(ident: int, frames: range, x0: float, dx: float) -> np.ndarray:
    """MOT rows of a 20x60 box whose feet move along v = 200 by ``dx`` px a frame."""
    return np.array([[f, ident, x0 + dx * f - 10, 140.0, 20.0, 60.0, 1.0] for f in frames])


def result(gt: np.ndarray, hyp: np.ndarray):  # type: ignore[no-untyped-def]
    lines, zones = image_geometry(COUNTING)
    return compare(image_tracks(gt, FPS), image_tracks(hyp, FPS), lines, zones, RULES, "image")


def test_same_tracks_give_no_error_and_the_right_direction() -> None:
    gt = np.vstack([walker(1, range(1, 31), 0, 10), walker(2, range(1, 31), 300, -10)])
    r = result(gt, gt.copy())
    (line,) = r.lines
    assert (line.true_in, line.true_out, line.error) == (1, 1, 0)
    (zone,) = r.zones
    assert zone.true_visits == zone.system_visits == 2
    assert zone.mean_dwell_error_s == 0.0
    assert zone.true_mean_dwell_s is not None and 0.8 < zone.true_mean_dwell_s < 1.2


def test_a_missed_person_and_a_track_cut_at_the_line_show_as_errors() -> None:
    gt = np.vstack([walker(1, range(1, 31), 0, 10), walker(2, range(1, 31), 0, 10)])
    # Person 2 is never detected; person 1's track is cut in two right at the line (the new
    # id starts on the far side, so no side change is ever seen: a missed crossing).
    hyp = np.vstack([walker(1, range(1, 10), 0, 10), walker(5, range(11, 31), 0, 10)])
    r = result(gt, hyp)
    (line,) = r.lines
    assert (line.true_in, line.system_in, line.error) == (2, 0, -2)
    assert r.line_abs_error == 2
    (zone,) = r.zones
    assert zone.true_visits == 2 and zone.system_visits < 2


def test_a_system_track_that_jumps_across_the_line_at_an_identity_switch_is_not_counted() -> None:
    """Two people walk towards the line from either side and stop short of it; the system's
    track of one jumps onto the other for 0.3 s (an identity switch) and back: no crossing, as
    in the truth (the plain rule, line_establish_s 0, counted it twice)."""
    left = walker(1, range(1, 31), 0, 2)  # x 2 .. 60 px
    right = walker(2, range(1, 31), 200, -2)  # x 198 .. 140 px
    gt = np.vstack([left, right])
    switched = left.copy()
    jump = (switched[:, 0] >= 15) & (switched[:, 0] < 18)
    switched[jump, 2] = right[jump, 2]  # frames 15-17: the box of person 2
    hyp = np.vstack([switched, right])
    lines, zones = image_geometry(COUNTING)
    r = compare(image_tracks(gt, FPS), image_tracks(hyp, FPS), lines, zones, RULES, "image")
    (line,) = r.lines
    assert (line.true_total, line.system_total) == (0, 0)
    plain = CountingRules.model_construct(**(RULES.model_dump() | {"line_establish_s": 0.0}))
    r = compare(image_tracks(gt, FPS), image_tracks(hyp, FPS), lines, zones, plain, "image")
    assert (r.lines[0].true_total, r.lines[0].system_total) == (0, 2)
