"""The unique-visitor rule: short fragments are held back until they join someone or grow."""

from __future__ import annotations

from cloud.stitch.visitors import MIN_VISITOR_S, counted


def test_a_visitor_seen_long_enough_counts_and_a_short_fragment_is_held_back() -> None:
    spans = [("long", 0.0, 60.0), ("blip", 100.0, 100.0 + MIN_VISITOR_S / 2)]
    assert counted(spans) == {"long"}


def test_fragments_count_once_together_they_were_seen_long_enough() -> None:
    half = MIN_VISITOR_S / 2
    # two short tracks of one visitor (a hand-over, a broken track) add up
    assert counted([("v", 0.0, half), ("v", 300.0, 300.0 + half)]) == {"v"}
    # the same two tracks as two visitors: neither counts
    assert counted([("a", 0.0, half), ("b", 300.0, 300.0 + half)]) == set()


def test_the_threshold_is_the_rule() -> None:
    spans = [("v", 0.0, 5.0)]
    assert counted(spans, min_visitor_s=5.0) == {"v"}
    assert counted(spans, min_visitor_s=5.1) == set()
    assert counted([], min_visitor_s=0.0) == set()
