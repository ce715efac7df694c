"""Transactions posted through the API (JSON and CSV) and the conversion it serves, against a
reference computed here from the stored zone visits and stitched ids, on a real database."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from retail_site import STORE, retail_site
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate

pytestmark = pytest.mark.integration

SITE = retail_site()
TZ = ZoneInfo(SITE.site.timezone)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 09:00 in London


@pytest.fixture()
def client(database_url: str):  # type: ignore[no-untyped-def]
    messages = site_messages(SITE, T0, duration_s=3 * 3600, fps=1, walkers_per_minute=3, seed=7)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for i in range(0, len(messages), 5000):
            writer.write(messages[i : i + 5000])
        derive_all_dirty(conn, SITE)
        _stitch_some_visits_into_one_visitor(conn)
        token = create_key(conn, SITE.id, "test")
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as c:
        yield c, {"X-API-Key": token}, database_url


def _stitch_some_visits_into_one_visitor(conn: psycopg.Connection[Any]) -> None:
    """Give the store's first three visits' tracks one stitched visitor (as the stitcher would
    for one person seen three times), and a fourth its own: distinct visitors < visits."""
    tracks = conn.execute(
        """
        SELECT DISTINCT ON (z.camera_id, z.track_id) z.camera_id, z.track_id, t.run_id,
               t.first_at, t.last_at, z.enter_at
        FROM zone_visit z JOIN track t USING (site_id, camera_id, track_id)
        WHERE z.site_id = %s AND z.zone_id = %s ORDER BY z.camera_id, z.track_id, z.enter_at
        """,
        (SITE.id, STORE),
    ).fetchall()
    tracks.sort(key=lambda r: r[5])
    assert len(tracks) >= 10, "the synthetic walkers should visit the store"
    for i, (camera, track, run, first, last, _) in enumerate(tracks[:4]):
        conn.execute(
            "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, started_at, "
            "mode, visitor_id, ended_at) VALUES (%s, %s, %s, %s, %s, 'combined', %s, %s)",
            (SITE.id, camera, run, track, first, "v-shopper" if i < 3 else "v-other", last),
        )
    # the fifth visit's track is staff (as the stitch service's staff pass records it)
    camera, track, _, first, _, _ = tracks[4]
    conn.execute(
        "INSERT INTO staff_track (site_id, camera_id, track_id, started_at, rule) "
        "VALUES (%s, %s, %s, %s, 'stay')",
        (SITE.id, camera, track, first),
    )
    conn.commit()


def _reference(
    database_url: str, sold: dict[datetime, int], by: str
) -> dict[datetime, tuple[int, int]]:
    """Per site-local hour or day: (distinct visitors who entered the store, transactions)."""
    with psycopg.connect(database_url) as conn:
        visits = conn.execute(
            "SELECT camera_id, track_id, enter_at FROM zone_visit WHERE site_id = %s "
            "AND zone_id = %s",
            (SITE.id, STORE),
        ).fetchall()
        staff = set(conn.execute("SELECT camera_id, track_id FROM staff_track").fetchall())
        assert len(staff) == 1
        visits = [v for v in visits if (v[0], v[1]) not in staff]
        stitched = {
            (c, t): v
            for c, t, v in conn.execute(
                "SELECT camera_id, track_id, visitor_id FROM tracklet_visitor "
                "WHERE site_id = %s AND mode = 'combined'",
                (SITE.id,),
            ).fetchall()
        }

    def bucket(at: datetime) -> datetime:
        local = at.astimezone(TZ)
        if by == "day":
            return local.replace(hour=0, minute=0, second=0, microsecond=0)
        return local.replace(minute=0, second=0, microsecond=0)

    people: dict[datetime, set[str]] = defaultdict(set)
    for camera, track, enter_at in visits:
        people[bucket(enter_at)].add(stitched.get((camera, track), f"{camera}/{track}"))
    tx: dict[datetime, int] = defaultdict(int)
    for start, n in sold.items():
        tx[bucket(start)] += n
    return {b: (len(people.get(b, ())), tx.get(b, 0)) for b in set(people) | set(tx)}


def test_conversion_from_posted_transactions_equals_the_reference(client) -> None:  # type: ignore[no-untyped-def]
    c, key, url = client
    base = f"/v1/sites/{SITE.id}"
    # 09:00 as one hour (JSON), 10:00 in quarter hours (CSV), 11:00 as one hour (JSON)
    first = {"rows": [{"store": STORE, "start": "2026-11-20T09:00", "transactions": 7}]}
    r = c.post(f"{base}/transactions", json=first, headers=key)
    assert r.status_code == 200 and r.json() == {"received": 1, "new": 1, "replaced": 0}
    csv = "store,start,minutes,transactions\n" + "".join(
        f"{STORE},2026-11-20T10:{m:02d},15,{n}\n"
        for m, n in zip((0, 15, 30, 45), (2, 0, 3, 1), strict=True)
    )
    r = c.post(f"{base}/transactions/csv", content=csv, headers={**key, "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"received": 4, "new": 4, "replaced": 0}
    eleven = {"rows": [{"store": STORE, "start": "2026-11-20T11:00Z", "transactions": 4}]}
    assert c.post(f"{base}/transactions", json=eleven, headers=key).json()["new"] == 1
    # idempotent per store and interval: the same interval again replaces its figure
    again = {"rows": [{"store": STORE, "start": "2026-11-20T09:00", "transactions": 9}]}
    r = c.post(f"{base}/transactions", json=again, headers=key)
    assert r.json() == {"received": 1, "new": 0, "replaced": 1}
    sold = {
        datetime(2026, 11, 20, 9, tzinfo=TZ): 9,
        datetime(2026, 11, 20, 10, tzinfo=TZ): 2,
        datetime(2026, 11, 20, 10, 15, tzinfo=TZ): 0,
        datetime(2026, 11, 20, 10, 30, tzinfo=TZ): 3,
        datetime(2026, 11, 20, 10, 45, tzinfo=TZ): 1,
        datetime(2026, 11, 20, 11, tzinfo=TZ): 4,
    }
    for by in ("hour", "day"):
        body = c.get(
            f"{base}/conversion?from=2026-11-20T00:00&to=2026-11-21T00:00&by={by}&store={STORE}",
            headers=key,
        ).json()
        assert body["staff_excluded"] is True
        want = _reference(url, sold, by)
        got = {datetime.fromisoformat(r["bucket"]): r for r in body["rows"]}
        assert set(got) == set(want), by
        for b, (visitors, tx) in want.items():
            row = got[b]
            assert (row["visitors"], row["transactions"]) == (visitors, tx), (by, b)
            expected = tx / visitors if visitors else None
            assert row["conversion"] == pytest.approx(expected), (by, b)
        assert sum(r["transactions"] for r in body["rows"]) == 19
    # the stitched visitor who entered three times in an hour counts once
    hourly = c.get(f"{base}/conversion?from=2026-11-20T09:00&to=2026-11-20T12:00", headers=key)
    visits_hourly = _visits_per_hour(url)
    assert sum(r["visitors"] for r in hourly.json()["rows"]) < sum(visits_hourly.values())
    total = hourly.json()["stores"][0]
    assert (
        total["store_id"] == STORE
        and total["transactions"] == 19
        and total["conversion"] == pytest.approx(19 / total["visitors"])
    )


def _visits_per_hour(url: str) -> dict[int, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT extract(hour FROM enter_at)::int, count(DISTINCT (camera_id, track_id)) "
            "FROM zone_visit WHERE site_id = %s AND zone_id = %s GROUP BY 1",
            (SITE.id, STORE),
        ).fetchall()
    return dict(rows)


def test_transactions_that_cannot_be_stored_are_refused_with_a_sentence(client) -> None:  # type: ignore[no-untyped-def]
    c, key, _ = client
    base = f"/v1/sites/{SITE.id}/transactions"

    def post(row: dict[str, Any]) -> Any:
        return c.post(base, json={"rows": [row]}, headers=key)

    r = post({"store": "plaza-north-path", "start": "2026-11-20T09:00", "transactions": 1})
    assert r.status_code == 422 and "is not a store of site 'demo'" in r.json()["detail"]
    r = post({"store": STORE, "start": "2026-11-20T09:10", "minutes": 15, "transactions": 1})
    assert r.status_code == 422 and "15-minute boundary" in r.json()["detail"]
    r = post({"store": STORE, "start": "2026-11-20T09:00", "minutes": 20, "transactions": 1})
    assert r.status_code == 422 and "use 15, 30 or 60" in r.json()["detail"]
    assert post({"store": STORE, "start": "2026-11-20T09:00", "transactions": 1}).is_success
    r = post({"store": STORE, "start": "2026-11-20T09:30", "minutes": 30, "transactions": 1})
    assert r.status_code == 409 and "overlaps the stored interval" in r.json()["detail"]
    csv = "store,when,transactions\nx,y,1\n"
    r = c.post(f"{base}/csv", content=csv, headers={**key, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "lacks the column(s) start, minutes" in r.json()["detail"]
    csv = f"store,start,minutes,transactions\n{STORE},2026-11-20T12:00,60,many\n"
    r = c.post(f"{base}/csv", content=csv, headers={**key, "Content-Type": "text/csv"})
    assert r.status_code == 422 and "CSV line 2" in r.json()["detail"]
    assert c.post(base, json={"rows": []}).status_code == 401
