"""The API's time range: defaults (today in the site's zone), bucket sizes, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import HTTPException

from cloud.api.params import TimeRange

TOKYO = ZoneInfo("Asia/Tokyo")


def test_no_range_is_today_in_the_site_time_zone() -> None:
    # 20:00 UTC on the 20th is already the 21st in Tokyo.
    r = TimeRange.parse(None, None, None, TOKYO, now=datetime(2026, 11, 20, 20, tzinfo=UTC))
    assert r.start == datetime(2026, 11, 21, tzinfo=TOKYO)
    assert r.end == datetime(2026, 11, 22, tzinfo=TOKYO)
    assert r.bucket == timedelta(hours=1)


def test_one_end_gives_a_day_from_it() -> None:
    r = TimeRange.parse("2026-11-20T09:00", None, None, TOKYO)
    assert (r.start, r.end - r.start) == (datetime(2026, 11, 20, 9, tzinfo=TOKYO), timedelta(1))
    r = TimeRange.parse(None, "2026-11-20T09:00Z", None, TOKYO)
    assert r.end - r.start == timedelta(days=1) and r.end == datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(hours=1), timedelta(minutes=15)),
        (timedelta(hours=6), timedelta(minutes=15)),
        (timedelta(hours=7), timedelta(hours=1)),
        (timedelta(days=3), timedelta(hours=1)),
        (timedelta(days=30), timedelta(days=1)),
    ],
)
def test_the_default_bucket_suits_the_range(span: timedelta, bucket: timedelta) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    r = TimeRange.parse(start.isoformat(), (start + span).isoformat(), None, TOKYO)
    assert r.bucket == bucket
    assert TimeRange.parse(start.isoformat(), (start + span).isoformat(), "1m", TOKYO).bucket == (
        timedelta(minutes=1)
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31"), ("2026-01-02", "2026-01-01")],
)
def test_out_of_range_or_reversed_is_a_422(start: str, end: str) -> None:
    with pytest.raises(HTTPException) as raised:
        TimeRange.parse(start, end, None, TOKYO)
    assert raised.value.status_code == 422
