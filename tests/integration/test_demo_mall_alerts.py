"""The living demo's Alerts page has something to show: the simulated mall's alert rules (its
config's ``alerts:`` section), evaluated as the demo's alerts worker does every 15 s over the
moderate scenario the demo feeds, fire and clear on the supermarket checkout's crowd, keep quiet
about cameras while the simulator sends their heartbeats, and fire for every camera once it
stops (real database; the messages go in through the ingest writer and derivation)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cloud.alerts.run import AlertSettings, alert_pass
from cloud.analytics.derive import derive_all_dirty
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import FrameObservations
from footfall.demo import MALL_SCENARIO, MALL_SITE
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import load_site
from footfall.site.alerts import alert_problems

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MALL = load_site(REPO / MALL_SITE)
WINDOW_S = 30 * 60.0


def test_the_demo_mall_alerts_fire_and_clear_on_its_live_feed(database_url: str) -> None:
    rules = MALL.alerts
    assert rules.occupancy and rules.cameras is not None, "the demo mall has alert rules"
    assert alert_problems(rules, [z.id for z in MALL.zones]) == []
    sim = Simulation(MALL, with_overrides(scenario(MALL_SCENARIO), duration_s=WINDOW_S), seed=1)
    messages = sim.messages()
    frames = [m.captured_at for m in messages if isinstance(m, FrameObservations)]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, MALL.counting.heatmap_cell_m)
        for i in range(0, len(messages), 5000):
            writer.write(messages[i : i + 5000])
        derive_all_dirty(conn, MALL)
        conn.commit()
        settings = AlertSettings()
        at, end = min(frames) + timedelta(minutes=1), max(frames)
        while at <= end:  # the worker's passes while the simulator feeds the mall
            alert_pass(conn, [MALL], settings, at)
            at += timedelta(seconds=settings.interval_s)
        live = conn.execute(
            "SELECT alert_key, message, cleared_at IS NOT NULL FROM alert ORDER BY fired_at"
        ).fetchall()
        # the simulator stopped: its cameras fall silent
        quiet = timedelta(minutes=rules.cameras.silent_minutes + 1)
        alert_pass(conn, [MALL], settings, end + quiet)
        silent = conn.execute(
            "SELECT subject FROM alert WHERE alert_key LIKE 'camera-silent:%' "
            "AND cleared_at IS NULL"
        ).fetchall()
    rule = rules.occupancy[0]
    crowded = [r for r in live if r[0] == f"occupancy:{rule.zone}"]
    assert crowded, live
    assert all(f"above its capacity of {rule.capacity}" in r[1] for r in crowded), crowded
    assert any(r[2] for r in crowded), "the crowd thins out again: the alert clears"
    assert not [r for r in live if r[0].startswith("camera")], live
    assert sorted(s for (s,) in silent) == sorted(c.id for c in MALL.cameras)
    print(f"{len(crowded)} checkout alert(s) in {WINDOW_S / 60:.0f} min: {[r[1] for r in crowded]}")
