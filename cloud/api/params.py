"""Query parameters shared by the resources: time range and bucket, in the site's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import HTTPException

_BUCKET = re.compile(r"^(\d+)\s*(m|min|minute|minutes|h|hour|hours|d|day|days)$")
_UNIT = {"m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600}
_UNIT |= {"hours": 3600, "d": 86400, "day": 86400, "days": 86400}


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def parse_bucket(text: str) -> timedelta:
    match = _BUCKET.match(text.strip().lower())
    if not match:
        raise unprocessable(
            f"bucket {text!r} is not a duration; use e.g. 1m, 15m, 1h or 1d (1 minute to 1 day)"
        )
    seconds = int(match[1]) * _UNIT[match[2]]
    if not 60 <= seconds <= 86400:
        raise unprocessable(f"bucket {text!r} is out of range; use 1 minute to 1 day")
    return timedelta(seconds=seconds)


DATE_TIME: dict[str, object] = {"format": "date-time"}
"""OpenAPI hint for time parameters (naive site-local times are accepted too)."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Times the API answers for (the wire contract's range); others are refused with 422."""


def parse_time(text: str, name: str, tz: ZoneInfo) -> datetime:
    """An aware date-time from ISO 8601 (site-local if naive), within EARLIEST..LATEST."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if not value.tzinfo:
            value = value.replace(tzinfo=tz)
        inside = EARLIEST <= value <= LATEST
    except (ValueError, OverflowError):
        raise unprocessable(
            f"{name}={text!r} is not a date-time; use ISO 8601 such as 2026-11-20T09:00 "
            "(site-local) or 2026-11-20T09:00Z"
        ) from None
    if not inside:
        raise unprocessable(
            f"{name}={text!r} is outside the supported range "
            f"{EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"
        )
    return value


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    bucket: timedelta
    tz: ZoneInfo

    @classmethod
    def parse(
        cls,
        start: str | None,
        end: str | None,
        bucket: str | None,
        tz: ZoneInfo,
        now: datetime | None = None,
        *,
        until_now: timedelta | None = None,
    ) -> TimeRange:
        """The range asked for; without ``from`` and ``to``, today in the site's time zone
        (one missing: a day before ``to`` or after ``from``); without ``bucket``, one that
        suits the range (:func:`default_bucket`).

        With ``until_now``, a missing ``to`` is now (a second ahead, so that what happened
        this instant is in) and a missing ``from`` is ``until_now`` before ``to``."""
        moment = now or datetime.now(UTC)
        if until_now is not None:
            hi = parse_time(end, "to", tz) if end is not None else moment + timedelta(seconds=1)
            lo = parse_time(start, "from", tz) if start is not None else hi - until_now
            lo = max(lo, EARLIEST)
        elif start is None and end is None:
            today = moment.astimezone(tz).date()
            lo = datetime.combine(today, time(0), tzinfo=tz)
            hi = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
        elif end is None:
            lo = parse_time(str(start), "from", tz)
            hi = min(lo + timedelta(days=1), LATEST)
        elif start is None:
            hi = parse_time(end, "to", tz)
            lo = max(hi - timedelta(days=1), EARLIEST)
        else:
            lo, hi = parse_time(start, "from", tz), parse_time(end, "to", tz)
        if hi <= lo:
            raise unprocessable(
                f"to ({_shown(end, hi, tz)}) must be after from ({_shown(start, lo, tz)}); "
                "send a later to or an earlier from"
            )
        if hi - lo > timedelta(days=400):
            raise unprocessable("the range from..to is longer than 400 days; ask for less")
        step = parse_bucket(bucket) if bucket is not None else default_bucket(hi - lo)
        return cls(lo, hi, step, tz)


def _shown(given: str | None, value: datetime, tz: ZoneInfo) -> str:
    """A range end as the request gave it, or the default it got."""
    if given is not None:
        return given
    return f"{value.astimezone(tz).isoformat(timespec='seconds')} by default"


def default_bucket(span: timedelta) -> timedelta:
    """15 minutes for up to 6 hours, an hour for up to 3 days, else a day."""
    if span <= timedelta(hours=6):
        return timedelta(minutes=15)
    if span <= timedelta(days=3):
        return timedelta(hours=1)
    return timedelta(days=1)
