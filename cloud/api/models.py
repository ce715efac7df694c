"""What every endpoint answers, as pydantic models: the OpenAPI document's response schemas.

Handlers build their answers directly (rows from SQL, times in the site's zone) and name the
model as ``response_model`` so ``/docs`` and generated clients know each answer's shape; the
schemathesis run in ``tests/integration/test_api_hostile.py`` checks real answers against these
schemas, and a client generated from the document parses them (``test_api_client.py``).
Times are ISO 8601 strings with the site's UTC offset.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Table(_Answer):
    timezone: str = Field(description="IANA zone the times are in, e.g. 'Europe/Berlin'.")


class FootfallRow(_Answer):
    bucket: datetime
    line_id: str
    ins: int = Field(description="Crossings into the line's zone (entries).")
    outs: int = Field(description="Crossings out of it (exits).")


class Footfall(_Table):
    rows: list[FootfallRow]


class OccupancyNow(_Answer):
    at: datetime = Field(description="When these figures were computed.")
    zones: dict[str, int] = Field(description="Zone id → people in it.")


class OccupancyRow(_Answer):
    bucket: datetime
    zone_id: str
    mean: float = Field(description="Mean of the bucket's minute snapshots.")
    peak: int = Field(description="Largest minute snapshot in the bucket.")


class Occupancy(_Table):
    rows: list[OccupancyRow]


class DwellRow(_Answer):
    zone_id: str
    visits: int
    mean_s: float
    median_s: float
    p90_s: float


class Dwell(_Table):
    rows: list[DwellRow]


class DwellQuantiles(_Answer):
    p05: float
    p25: float
    p50: float
    p75: float
    p95: float


class DwellZone(_Answer):
    zone_id: str
    visits: int
    quantiles_s: DwellQuantiles
    histogram: list[int]


class DwellDistribution(_Answer):
    edges_s: list[float]
    bins: str = Field(description="How to read the histograms against edges_s.")
    zones: list[DwellZone]


class FlowRow(_Answer):
    from_zone: str
    to_zone: str
    people: int


class Flows(_Table):
    rows: list[FlowRow]


class Heatmap(_Answer):
    floor: str
    cell_m: float
    timezone: str
    cells: str = Field(description="How to read a cell triple.")
    buckets: dict[str, list[list[int]]] = Field(
        description="Bucket start → [cell_x, cell_y, samples] triples."
    )


class VisitorRow(_Answer):
    visitor_id: str
    stitched: bool
    first_at: datetime
    last_at: datetime
    tracks: int
    cameras: str = Field(description="Camera ids, space separated.")
    track_ids: str = Field(
        description="Its local tracks as camera/track, space separated, in time order "
        "(each one's trajectory: visitors/{camera}/{track})."
    )


class Visitors(_Table):
    rows: list[VisitorRow]


class VisitorSummary(_Answer):
    model_config = ConfigDict(populate_by_name=True)

    unique_visitors: int = Field(
        description="Stitched visitors whose tracks in the range were seen for at least "
        "counted_after_s in total."
    )
    returning_visitors: int
    held_back_visitors: int = Field(
        description="Visitors seen for less than counted_after_s in the range (short fragments: "
        "a glimpse, a false detection, a piece the stitcher could not join), not in "
        "unique_visitors."
    )
    counted_after_s: float = Field(
        description="How long a visitor's tracks must have been seen to count as a unique visitor."
    )
    stitched_tracks: int
    unstitched_tracks: int
    returning_after: str = Field(description="Gap after which a visitor counts as returning.")
    from_: datetime = Field(alias="from")
    to: datetime


class TrajectoryPoint(_Answer):
    at: datetime
    floor_id: str
    x_m: float
    y_m: float


class Trajectory(_Answer):
    camera_id: str
    track_id: str
    points: list[TrajectoryPoint]


class VisitorPoint(_Answer):
    at: datetime
    camera_id: str
    track_id: str
    floor_id: str
    x_m: float
    y_m: float


class VisitorTrajectory(_Answer):
    visitor_id: str
    points: list[VisitorPoint]


class CameraHealth(_Answer):
    camera_id: str
    status: str = Field(
        description="ok, degraded, error, offline (as the camera's last heartbeat said); "
        "silent: no heartbeat for three heartbeat intervals (at least 2 minutes); unknown: no "
        "heartbeat yet."
    )
    sent_at: datetime | None = None
    fps: float | None = None
    target_fps: float | None = None
    latency_ms: float | None = None
    dropped_frames: int | None = None
    detail: str | None = None
    interval_s: float | None = Field(default=None, description="Heartbeat interval.")


class Cameras(_Answer):
    cameras: list[CameraHealth]


class CameraHistoryRow(_Answer):
    bucket: datetime
    camera_id: str
    heartbeats: int
    fps: float
    target_fps: float
    latency_ms: float | None
    latency_p95_ms: float | None
    dropped_frames: int
    degraded: int
    offline: int
    errors: int


class CameraHistory(_Table):
    rows: list[CameraHistoryRow]


class OverviewHour(_Answer):
    hour: int
    entries: int
    exits: int
    compare_entries: int


class Overview(_Answer):
    timezone: str
    at: datetime
    day: date
    compare_day: date
    lines: list[str]
    entries: int
    exits: int
    compare_entries_same_time: int
    compare_entries_whole_day: int
    change: float | None = Field(description="entries / compare_entries_same_time - 1.")
    hourly: list[OverviewHour]


class PlanPlacement(_Answer):
    pixels_per_metre: float
    origin_px: list[float]


class LayoutFloor(_Answer):
    id: str
    name: str
    level: int
    width_m: float
    depth_m: float
    plan: PlanPlacement | None


class LayoutZone(_Answer):
    id: str
    name: str
    floor: str
    kind: str
    polygon: list[list[float]]


class LayoutLine(_Answer):
    id: str
    name: str
    floor: str
    a: list[float]
    b: list[float]


class LayoutCamera(_Answer):
    id: str
    name: str
    floor: str
    area: list[float] = Field(description="[x0, y0, x1, y1] the camera sees, metres.")


class Layout(_Answer):
    id: str
    name: str
    timezone: str
    floors: list[LayoutFloor]
    zones: list[LayoutZone]
    lines: list[LayoutLine]
    cameras: list[LayoutCamera]
