"""Moved: the counting rules live in :mod:`footfall.site.rules` (one home for the cloud, the
simulator's truth and the evaluation). These names stay importable from here for callers not
yet moved."""

from footfall.site.rules import (
    Crossing,
    OpenVisit,
    Point,
    Track,
    Visit,
    crossing_codes,
    inside_mask,
    line_crossings,
    resume_crossings,
    resume_crossings_coded,
    resume_visits,
    resume_visits_masked,
    zone_visits,
)

__all__ = [
    "Crossing",
    "OpenVisit",
    "Point",
    "Track",
    "Visit",
    "crossing_codes",
    "inside_mask",
    "line_crossings",
    "resume_crossings",
    "resume_crossings_coded",
    "resume_visits",
    "resume_visits_masked",
    "zone_visits",
]
