"""IDF1 over global ids on hand-made cases (values worked out by hand)."""

from __future__ import annotations

import pytest

from footfall.evaluation.stitch_metrics import id_scores, relative_error


def test_perfect_ids_score_one() -> None:
    s = id_scores([("a", 1, 10), ("a", 1, 5), ("b", 2, 7)])
    assert (s.idf1, s.idtp, s.idfp, s.idfn) == (1.0, 22, 0, 0)


def test_a_person_split_in_two() -> None:
    # person 1: 6 detections under id a, 4 under id b; only a matches 1
    s = id_scores([("a", 1, 6), ("b", 1, 4)])
    assert (s.idtp, s.idfp, s.idfn) == (6, 4, 4)
    assert s.idf1 == pytest.approx(12 / 20)


def test_two_people_merged_into_one_id() -> None:
    s = id_scores([("a", 1, 8), ("a", 2, 2)])
    assert (s.idtp, s.idfp, s.idfn) == (8, 2, 2)
    assert s.idf1 == pytest.approx(16 / 20)


def test_matching_is_one_to_one_and_global() -> None:
    # greedy would give a→1 (5) and leave b with nothing; the best matching is a→2, b→1
    s = id_scores([("a", 1, 5), ("a", 2, 4), ("b", 1, 4)])
    assert s.idtp == 8
    assert s.idf1 == pytest.approx(16 / 26)


def test_false_tracks_count_against_precision_only() -> None:
    s = id_scores([("a", 1, 10), ("g", None, 5)])
    assert (s.idtp, s.idfp, s.idfn) == (10, 5, 0)
    assert s.idp == pytest.approx(10 / 15) and s.idr == 1.0


def test_relative_error() -> None:
    assert relative_error(110, 100) == pytest.approx(0.1)
    assert relative_error(0, 0) == 0.0
