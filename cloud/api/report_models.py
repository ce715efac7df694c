"""Response models of the report endpoints (staff, groups, queues, balanced site occupancy)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Staff(BaseModel):
    staff_tracks: int = Field(description="Local tracks recognised as staff in the range.")
    staff_chains: int = Field(description="Staff trajectories (chains of one camera's tracks).")
    by_rule: dict[str, int] = Field(
        description="Staff tracks per rule: staff_only, post, stay, present."
    )
    unique_visitors_with_staff: int
    unique_visitors_staff_excluded: int
    entries_with_staff: int = Field(description="Crossings in on entrance lines, staff included.")
    entries_staff_excluded: int
    zone_visits_with_staff: int
    zone_visits_staff_excluded: int
    mean_dwell_s_with_staff: float | None
    mean_dwell_s_staff_excluded: float | None


class GroupRow(BaseModel):
    bucket: str
    entries_people: int = Field(description="People who entered (staff excluded).")
    entries_parties: int = Field(description="Parties that entered: groups + people alone.")
    groups: int = Field(description="Parties of two or more.")
    people_in_groups: int


class Groups(BaseModel):
    timezone: str
    rows: list[GroupRow]


class QueueRow(BaseModel):
    bucket: str
    zone_id: str
    length: int = Field(description="The most people waiting at once in the bucket.")
    waits: int = Field(description="Waits that ended in the bucket.")
    mean_s: float | None = Field(description="Mean wait, seconds.")
    p90_s: float | None = Field(description="90th percentile wait, seconds.")


class QueueStats(BaseModel):
    waits: int
    mean_s: float | None
    p90_s: float | None


class QueueLive(BaseModel):
    zone_id: str
    length: int = Field(description="People in the queue now.")
    longest_wait_now_s: float = Field(description="How long the longest waiter has waited.")
    last_15m: QueueStats = Field(description="Waits that ended in the last 15 minutes.")


class Queues(BaseModel):
    timezone: str
    zones: list[str] = Field(description="The site's queue zones.")
    rows: list[QueueRow]
    live: list[QueueLive]


class SiteOccupancyMinute(BaseModel):
    minute: str
    raw: int = Field(description="Entries − exits on entrance lines since opening.")
    balanced: int = Field(description="Clamped to what cameras see, closed at closing time.")
    seen: int = Field(description="People the cameras see in the site's zones.")


class SiteOccupancy(BaseModel):
    timezone: str
    day: str
    residual: int | None = Field(description="Drift at closing time (None: not closed yet).")
    minutes: list[SiteOccupancyMinute]
