"""Conversion, zone visits, dwell and footfall without staff outlive the raw retention: the
retention pass rolls each site-local day up before it drops its raw rows, and /conversion,
/compare and /footfall answer the same figures after the drop as before (real database; the
rows go in through the ingest writer and derivation, as ingest writes them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from retail_site import STORE, retail_site
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.analytics.retention import enforce_retention
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.api.routers.overview import entry_lines
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.settings import RetentionSettings

pytestmark = pytest.mark.integration

SITE = retail_site()
OLD = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 in London: dropped below
KEPT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # three weeks later: still raw
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # the retention pass's clock: 30 days cut Nov 10
BASE = f"/v1/sites/{SITE.id}"


def _write(conn: psycopg.Connection[Any], start: datetime, seed: int) -> None:
    messages = site_messages(SITE, start, 3 * 3600, fps=1, walkers_per_minute=3, seed=seed)
    writer = BatchWriter(conn, 0.5)
    for i in range(0, len(messages), 5000):
        writer.write(messages[i : i + 5000])
    derive_all_dirty(conn, SITE)


def _stitch_and_staff(conn: psycopg.Connection[Any], lo: datetime, hi: datetime) -> None:
    """As the stitch service would: the first three store visits of the period are one
    visitor; the fifth store visitor and the first track crossing an entrance line are staff."""
    tracks = conn.execute(
        """
        SELECT z.camera_id, z.track_id, t.run_id, t.first_at, t.last_at, min(z.enter_at)
        FROM zone_visit z JOIN track t USING (site_id, camera_id, track_id)
        WHERE z.site_id = %s AND z.zone_id = %s AND z.enter_at >= %s AND z.enter_at < %s
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 6
        """,
        (SITE.id, STORE, lo, hi),
    ).fetchall()
    assert len(tracks) >= 10, "the synthetic walkers should visit the store"
    for camera, track, run, first, last, _ in tracks[:3]:
        conn.execute(
            "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, started_at, "
            "mode, visitor_id, ended_at) VALUES (%s, %s, %s, %s, %s, 'combined', %s, %s)",
            (SITE.id, camera, run, track, first, f"v-shopper-{lo.date()}", last),
        )
    crossing = conn.execute(
        "SELECT camera_id, track_id FROM line_crossing WHERE site_id = %s AND line_id = ANY(%s) "
        "AND at >= %s AND at < %s ORDER BY at LIMIT 1",
        (SITE.id, entry_lines(SITE), lo, hi),
    ).fetchone()
    assert crossing is not None
    for camera, track in {(tracks[4][0], tracks[4][1]), (crossing[0], crossing[1])}:
        first = conn.execute(
            "SELECT first_at FROM track WHERE site_id = %s AND camera_id = %s AND track_id = %s",
            (SITE.id, camera, track),
        ).fetchone()
        assert first is not None
        conn.execute(
            "INSERT INTO staff_track (site_id, camera_id, track_id, started_at, rule) "
            "VALUES (%s, %s, %s, %s, 'stay')",
            (SITE.id, camera, track, first[0]),
        )
    conn.commit()


@pytest.fixture()
def stack(database_url: str):  # type: ignore[no-untyped-def]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for start, seed in ((OLD, 3), (KEPT, 4)):
            _write(conn, start, seed)
            _stitch_and_staff(conn, start, start + timedelta(hours=3))
        token = create_key(conn, SITE.id, "test")
        conn.commit()
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as c:
        yield c, {"X-API-Key": token}, database_url


QUERIES = {
    "conversion by hour": "/conversion?from=2026-11-02T00:00&to=2026-11-03T00:00&by=hour",
    "conversion by day": "/conversion?from=2026-11-02T00:00&to=2026-11-03T00:00&by=day",
    "conversion of 10-12": "/conversion?from=2026-11-02T10:00&to=2026-11-02T12:00",
    "conversion across the cut": "/conversion?from=2026-11-02T00:00&to=2026-11-24T00:00&by=day",
    "compare": "/compare?from=2026-11-02T09:00&to=2026-11-02T12:00",
    "compare in the store": "/compare?from=2026-11-02T09:00&to=2026-11-02T12:00&zone=" + STORE,
    "compare a week on": "/compare?from=2026-11-09T09:00&to=2026-11-09T12:00",
    "footfall": "/footfall?from=2026-11-02T00:00&to=2026-11-03T00:00&bucket=1h",
    "footfall with staff": "/footfall?from=2026-11-02T00:00&to=2026-11-03T00:00&bucket=1h"
    "&staff=include",
    "footfall across the cut": "/footfall?from=2026-11-02T00:00&to=2026-11-24T00:00&bucket=1d",
}
ANSWERED = {"entries", "exits", "zone_visits", "dwell_mean_s", "transactions", "conversion"}


def _figures(c: TestClient, key: dict[str, str]) -> dict[str, Any]:
    out = {}
    for name, path in QUERIES.items():
        r = c.get(BASE + path, headers=key)
        assert r.status_code == 200, (name, r.text)
        out[name] = r.json()
    return out


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A /compare answer without unique visitors (not kept past the raw window)."""
    return {k["kpi"]: k for k in body["kpis"] if k["kpi"] in ANSWERED}


def _raw_rows_before(url: str, at: datetime) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: int(
                conn.execute(f"SELECT count(*) FROM {table} WHERE {column} < %s", (at,)).fetchone()[
                    0
                ]  # type: ignore[index]
            )
            for table, column in (
                ("zone_visit", "enter_at"),
                ("line_crossing", "at"),
                ("tracklet_visitor", "started_at"),
                ("staff_track", "started_at"),
            )
        }


def _same(before: dict[str, Any], after: dict[str, Any]) -> None:
    for name in QUERIES:
        if name.startswith("compare"):
            old, new = _comparable(before[name]), _comparable(after[name])
            assert set(old) == set(new) == ANSWERED, name
            for kpi in ANSWERED:
                for period in ("value", "last_week", "last_year"):
                    a, b = old[kpi][period], new[kpi][period]
                    a, b = (a, b) if period == "value" else (a["value"], b["value"])
                    assert (a is None and b is None) or b == pytest.approx(a), (name, kpi, period)
        else:
            assert after[name] == before[name], name


def test_conversion_and_compare_answer_the_same_after_retention_drops_the_raw_rows(
    stack: Any,
) -> None:
    c, key, url = stack
    for hour, n in ((9, 7), (10, 4), (11, 5)):
        rows = [{"store": STORE, "start": f"2026-11-02T{hour:02d}:00", "transactions": n}]
        assert c.post(f"{BASE}/transactions", json={"rows": rows}, headers=key).is_success
    kept = [{"store": STORE, "start": "2026-11-23T10:00", "transactions": 6}]
    assert c.post(f"{BASE}/transactions", json={"rows": kept}, headers=key).is_success

    before = _figures(c, key)
    conv = before["conversion by day"]["stores"][0]
    assert conv["transactions"] == 16 and conv["visitors"] > 5
    assert before["conversion by hour"]["rows"], "the old day has hourly rows"
    across = before["conversion across the cut"]["stores"][0]
    assert across["transactions"] == 22 and across["visitors"] > conv["visitors"]
    compared = _comparable(before["compare"])
    assert compared["zone_visits"]["value"] > 0 and compared["dwell_mean_s"]["value"] > 0
    assert compared["conversion"]["value"] > 0
    week_on = _comparable(before["compare a week on"])
    assert week_on["conversion"]["last_week"]["value"] == compared["conversion"]["value"]
    staff_in = sum(r["ins"] for r in before["footfall with staff"]["rows"])
    assert sum(r["ins"] for r in before["footfall"]["rows"]) < staff_in, "staff left out"
    unique = {k["kpi"]: k for k in before["compare"]["kpis"]}["unique_visitors"]
    assert unique["value"] > 0 and unique["unavailable"] is None
    assert all(n > 0 for n in _raw_rows_before(url, datetime(2026, 11, 3, tzinfo=UTC)).values())
    old_day = c.get("/v1/portfolio?day=2026-11-02", headers=key).json()["sites"][0]
    assert old_day["unique_visitors"] > 0

    settings = RetentionSettings()
    with psycopg.connect(url) as conn:
        enforce_retention(conn, settings, NOW, [SITE])
    # the old day's raw rows are gone, the kept period's are not
    assert _raw_rows_before(url, datetime(2026, 11, 10, tzinfo=UTC)) == dict.fromkeys(
        ("zone_visit", "line_crossing", "tracklet_visitor", "staff_track"), 0
    )
    assert all(n > 0 for n in _raw_rows_before(url, datetime(2026, 11, 24, tzinfo=UTC)).values())
    after = _figures(c, key)
    _same(before, after)

    # unique visitors are not kept: said in one sentence, not answered with zero
    unique = {k["kpi"]: k for k in after["compare"]["kpis"]}["unique_visitors"]
    assert unique["value"] is None
    assert unique["unavailable"].startswith("unique visitors before 2026-11-11T00:00:00+00:00")
    # ... where people were counted: a week earlier no one was, and that is zero, not refused
    assert unique["last_week"]["value"] == 0 and unique["last_week"]["unavailable"] is None
    # the portfolio too: the old day's unique visitors are null with the reason, not 0
    old_day = c.get("/v1/portfolio?day=2026-11-02", headers=key).json()
    (row,) = old_day["sites"]
    assert row["unique_visitors"] is None and old_day["totals"]["unique_visitors"] is None
    assert "retention has dropped" in row["unavailable"]["unique_visitors"]
    assert set(row["unavailable"]) == {"unique_visitors"}
    assert row["transactions"] == 16 and row["conversion"] is not None  # kept: answered
    kept_day = c.get("/v1/portfolio?day=2026-11-23", headers=key).json()["sites"][0]
    assert kept_day["unique_visitors"] > 0 and kept_day["unavailable"] == {}
    # figures only the raw rows give are refused with a sentence for the dropped days, and
    # answered for the kept ones
    for path in ("dwell", "visitors/summary", "flows", "queues", "groups"):
        r = c.get(f"{BASE}/{path}?from=2026-11-02T00:00&to=2026-11-03T00:00", headers=key)
        assert r.status_code == 422, path
        assert "cannot be answered: retention has dropped the per-person rows" in r.json()["detail"]
        r = c.get(f"{BASE}/{path}?from=2026-11-23T00:00&to=2026-11-24T00:00", headers=key)
        assert r.status_code == 200, (path, r.text)
    # the rollups keep whole hours: a range cut mid-hour is refused with a sentence
    r = c.get(f"{BASE}/conversion?from=2026-11-02T09:30&to=2026-11-02T12:00", headers=key)
    assert r.status_code == 422 and "start and end the range on the hour" in r.json()["detail"]

    # a second pass, and the old period delivered again late (replayed into ingest): the
    # sealed days count nothing twice
    with psycopg.connect(url) as conn:
        enforce_retention(conn, settings, NOW, [SITE])
        _write(conn, OLD, 3)
        conn.commit()
    _same(before, _figures(c, key))
    with psycopg.connect(url) as conn:
        enforce_retention(conn, settings, NOW + timedelta(hours=1), [SITE])
    _same(before, _figures(c, key))


def test_a_range_before_the_kept_rollups_is_refused_with_a_sentence(stack: Any) -> None:
    """Raw rows dropped before the rollups existed (a site upgraded after its retention ran):
    no figure is invented for those days."""
    c, key, url = stack
    with psycopg.connect(url) as conn:
        # people counted on 1 October, whose raw rows retention dropped before 016 existed:
        # only the per-minute footfall (kept for years) is left of that day
        conn.execute(
            "INSERT INTO footfall_minute (site_id, line_id, minute, ins, outs) "
            "VALUES (%s, %s, '2026-10-01T10:00Z', 3, 2)",
            (SITE.id, entry_lines(SITE)[0]),
        )
        conn.commit()
        enforce_retention(conn, RetentionSettings(), NOW, [SITE])
        since = conn.execute(
            "SELECT since FROM rollup_sealed WHERE site_id = %s", (SITE.id,)
        ).fetchone()
    assert since is not None and since[0] <= OLD
    r = c.get(f"{BASE}/conversion?from=2026-10-01T00:00&to=2026-10-02T00:00", headers=key)
    assert r.status_code == 422
    assert "cannot be answered: the rows it is counted from were dropped" in r.json()["detail"]
    body = c.get(f"{BASE}/compare?from=2026-10-01T09:00&to=2026-10-01T12:00", headers=key).json()
    got = {k["kpi"]: k for k in body["kpis"]}
    assert (
        got["conversion"]["value"] is None
        and "cannot be answered" in (got["conversion"]["unavailable"])
    )
    assert got["transactions"]["value"] == 0 and got["transactions"]["unavailable"] is None
    # a day before the rollups on which no one was counted is empty, not refused
    r = c.get(f"{BASE}/conversion?from=2026-09-01T00:00&to=2026-09-02T00:00", headers=key)
    assert r.status_code == 200 and r.json()["rows"] == []
