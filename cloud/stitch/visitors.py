"""Which stitched visitors count as unique visitors: the one rule, for the API and the evaluations.

A visitor made only of short fragments (a false detection tracked for a moment, a person glimpsed
at the edge of a view, a piece of a track the stitcher could not join to anyone) is held back:
it counts once the tracks it is made of were seen together for at least the site's
``counting.min_visitor_s`` seconds (:class:`footfall.site.CountingRules`, default 12 s: 10 s
leaves ``hard``'s fragments, 15 s drops ``moderate``'s briefly seen people; each track from its
start to its end, summed: two cameras seeing one person at once both count). A fragment that
later joins a visitor, or a visitor that grows, needs nothing more: the rule is applied to
what the visitor is when counted. Its tracks still count where a local track counts (line
crossings, zone visits, occupancy); only the unique-visitor count holds them back.

The API (``visitors/summary``'s ``unique_visitors``, :mod:`cloud.api.queries`) applies it in SQL
to the stored tracks (their first and last observation); :func:`counted` applies it to
stitched tracklets (the simulator's and the multi-camera evaluations).
"""

from __future__ import annotations

from collections.abc import Iterable

from footfall.site.rules import MIN_VISITOR_S

__all__ = ["MIN_VISITOR_S", "counted"]


def counted(
    spans: Iterable[tuple[str, float, float]], min_visitor_s: float = MIN_VISITOR_S
) -> set[str]:
    """The visitor ids that count, from (visitor id, start s, end s) of each of their tracks."""
    seen: dict[str, float] = {}
    for vid, start, end in spans:
        seen[vid] = seen.get(vid, 0.0) + max(end - start, 0.0)
    return {vid for vid, total in seen.items() if total >= min_visitor_s}
