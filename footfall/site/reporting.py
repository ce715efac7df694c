"""A site's ``reporting:`` section: the rules behind the numbers a manager reports.

* :class:`StaffRules` -- who is staff (excluded from visitor figures by default): time in
  ``staff_only`` zones, standing at a post in a shop, one long stay in a shop, presence over
  hours.
* :class:`GroupRules` -- who came together: people who cross an entrance line within a few
  seconds of each other and then stay close for a while form a group (a buying unit).
* :class:`QueueRules` -- which zones are queues (``checkout`` and ``queue`` kinds, or listed),
  and how waits are summarised.
* :class:`OccupancyRules` -- the site's opening and closing time, at which the site occupancy from
  entrance lines is closed to zero.

The rules are applied by :mod:`cloud.reports` (API, dashboard) and the simulator's evaluation
alike; none of them changes stored data, so they can be changed at any time.
"""

from __future__ import annotations

from datetime import time

from pydantic import ConfigDict, Field

from footfall.site.base import Float, SiteModel
from footfall.site.zone import ZoneKind


class StaffRules(SiteModel):
    """How a stitched visitor is recognised as staff (any one rule suffices)."""

    model_config = ConfigDict(frozen=True)

    staff_only_s: Float = Field(
        default=30.0,
        ge=0.0,
        description="Seconds in staff_only zones (back office, loading bay) that make staff.",
    )
    staff_only_whole_chain: bool = Field(
        default=False,
        description="When a chain is staff by staff_only_s, label all its tracks (true), or "
        "only those that entered a staff_only zone (false): an identity switch at a counter "
        "hands the chain to the shopper the cashier swapped with.",
    )
    staff_only_margin_m: Float = Field(
        default=0.75,
        ge=0.0,
        description="Of a chain staff by staff_only_s, a track that stayed within this distance "
        "of a staff_only zone throughout is staff too (position noise carries a cashier at the "
        "counter's edge just outside the tills; 0: off), metres.",
    )
    post_s: Float = Field(
        default=300.0,
        gt=0.0,
        description="Standing this long within post_radius_m of one spot in a zone of "
        "post_zone_kinds, outside queue zones, makes staff (shop staff at a door or counter), "
        "seconds; browsing shoppers stop for a minute or two.",
    )
    post_radius_m: Float = Field(
        default=1.0,
        gt=0.0,
        description="How far from the spot a post's positions (10-second means) may be, metres.",
    )
    post_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: [ZoneKind.STORE],
        description="Zone kinds where standing at a post means work (not queues, the food court "
        "or seating).",
    )
    stay_s: Float = Field(
        default=900.0,
        gt=0.0,
        description="One stay this long in a single zone of stay_zone_kinds (visits of one "
        "visitor less than stay_gap_s apart joined) makes staff, seconds; shoppers stay minutes.",
    )
    stay_gap_s: Float = Field(
        default=120.0,
        ge=0.0,
        description="Visits of one zone less than this apart are one stay, seconds.",
    )
    stay_zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: [ZoneKind.STORE, ZoneKind.CHECKOUT],
        description="Zone kinds where a long stay means work (not the food court or cinema).",
    )
    present_s: Float = Field(
        default=4 * 3600.0,
        gt=0.0,
        description="Seen over this long, first to last sighting, makes staff, seconds.",
    )
    exclude_by_default: bool = Field(
        default=True,
        description="Leave staff out of visitor figures unless a request asks for them.",
    )


class GroupRules(SiteModel):
    """When people who enter count as one group."""

    model_config = ConfigDict(frozen=True)

    entry_window_s: Float = Field(
        default=2.0,
        gt=0.0,
        le=60.0,
        description="Entries on one entrance line at most this far apart may be one group, s.",
    )
    distance_m: Float = Field(
        default=1.6,
        gt=0.0,
        le=20.0,
        description="Members stay within this distance of each other throughout, metres.",
    )
    max_drift_mps: Float = Field(
        default=0.25,
        gt=0.0,
        description="…and their distance grows or shrinks by at most this much per second (a "
        "line fitted over the shared samples): members walk at one pace, strangers who came "
        "through the door together drift apart, m/s.",
    )
    together_s: Float = Field(
        default=8.0,
        gt=0.0,
        le=600.0,
        description="…over the first this-many seconds after the entry they both were seen.",
    )
    max_size: int = Field(default=6, ge=2, le=50, description="Largest group recognised.")


class QueueRules(SiteModel):
    """Which zones are queues and how waits are summarised."""

    model_config = ConfigDict(frozen=True)

    zone_kinds: list[ZoneKind] = Field(
        default_factory=lambda: [ZoneKind.CHECKOUT, ZoneKind.QUEUE],
        description="Zones of these kinds are queues.",
    )
    zones: list[str] = Field(
        default_factory=list, description="More queue zones, by id, whatever their kind."
    )
    join_gap_s: Float = Field(
        default=10.0,
        ge=0.0,
        description="Visits of one visitor to a queue less than this apart are one wait, s.",
    )
    min_wait_s: Float = Field(
        default=20.0,
        ge=0.0,
        description="Shorter stays are passers-by, not waits, seconds.",
    )


class OccupancyRules(SiteModel):
    """Opening hours: site occupancy from entrance lines starts at 0 at opening and is closed
    to 0 at closing time (see :mod:`cloud.reports.occupancy`)."""

    model_config = ConfigDict(frozen=True)

    opens_at: time = Field(default=time(9, 0), description="Site-local opening time, HH:MM.")
    closes_at: time = Field(default=time(21, 0), description="Site-local closing time, HH:MM.")


class ReportingRules(SiteModel):
    """A site's ``reporting:`` section (defaults when left out)."""

    model_config = ConfigDict(frozen=True)

    staff: StaffRules = Field(default_factory=StaffRules, description="Who is staff.")
    groups: GroupRules = Field(default_factory=GroupRules, description="Who came together.")
    queues: QueueRules = Field(default_factory=QueueRules, description="Queue zones, waits.")
    occupancy: OccupancyRules = Field(
        default_factory=OccupancyRules, description="Opening hours for the occupancy balance."
    )
