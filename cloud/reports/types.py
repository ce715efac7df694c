"""The rows the report functions read: zone visits and line crossings of local tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

LocalTrack = tuple[str, str]
"""(camera_id, track_id): a local track, as the derived tables key it."""


@dataclass(frozen=True)
class TrackVisit:
    """A zone visit of one local track (a ``zone_visit`` row)."""

    camera_id: str
    track_id: str
    zone_id: str
    enter_at: datetime
    exit_at: datetime

    @property
    def track(self) -> LocalTrack:
        return (self.camera_id, self.track_id)


@dataclass(frozen=True)
class TrackCrossing:
    """A line crossing of one local track (a ``line_crossing`` row)."""

    camera_id: str
    track_id: str
    line_id: str
    at: datetime
    direction: int

    @property
    def track(self) -> LocalTrack:
        return (self.camera_id, self.track_id)
