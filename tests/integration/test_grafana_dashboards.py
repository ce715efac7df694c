"""Every Grafana panel's SQL, with its macros expanded, runs on the real schema and returns rows.

The database is filled by a replay (synthetic walkers and heartbeats through the real ingest
writer and analytics, :mod:`dashboard_replay`); macros and variables are expanded by
tests/support/grafana_queries.py as Grafana's PostgreSQL data source (``timescaledb: true``) does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml
from dashboard_replay import LiveReplay
from grafana_queries import Context, dashboard_queries

from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BOARDS = sorted((REPO / "dashboards" / "grafana").glob("*.json"))
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
SITE = load_site(REPO / "configs" / "sites" / "demo.yaml")


def test_provisioning_names_the_data_source_every_panel_uses() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "footfall.yaml").read_text())
    (source,) = sources["datasources"]
    assert source["jsonData"]["timescaledb"] is True  # what grafana_queries expands for
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "footfall.yaml").read_text())
    assert providers["providers"][0]["type"] == "file"
    assert len(BOARDS) >= 3
    uids = [json.loads(b.read_text())["uid"] for b in BOARDS]
    assert len(set(uids)) == len(uids)
    for board in BOARDS:
        data = json.loads(board.read_text())
        for panel in data["panels"]:
            assert panel["datasource"]["uid"] == source["uid"], (board.name, panel["title"])
            assert panel["targets"], (board.name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == source["uid"]


def test_every_panel_query_returns_rows(database_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    replay = LiveReplay(database_url, SITE, now, history=timedelta(hours=1), ahead=timedelta(0))
    replay.stop()
    site_values = {
        "site": SITE.id,
        "line": [line.id for line in SITE.lines],  # "All"
        "zone": [z.id for z in SITE.zones],
        "camera": [c.id for c in SITE.cameras],
    }
    # The retail board: one till figure and one alert with a delivery still being retried, as
    # POST /transactions and the alerts worker write them; its store variable takes every zone.
    site_values["store"] = [z.id for z in SITE.zones]
    with psycopg.connect(database_url) as conn:
        store = next(z.id for z in SITE.zones if z.kind == "store")
        start = (now - timedelta(minutes=30)).replace(second=0)
        conn.execute(
            "INSERT INTO pos_transaction (site_id, store_id, interval_start, interval_end, "
            "transactions) VALUES (%s, %s, %s, %s, 7)",
            (SITE.id, store, start, start + timedelta(minutes=15)),
        )
        alert_id = conn.execute(
            "INSERT INTO alert (site_id, alert_key, kind, subject, severity, message, fired_at) "
            "VALUES (%s, 'camera-silent:x', 'camera', 'x', 'critical', 'camera x is silent', %s) "
            "RETURNING id",
            (SITE.id, now - timedelta(minutes=20)),
        ).fetchone()
        assert alert_id is not None
        conn.execute(
            "INSERT INTO webhook_outbox (site_id, webhook, url, event, alert_id, payload) "
            "VALUES (%s, 'ops', 'http://127.0.0.1:9/', 'alert.fired', %s, '{}')",
            (SITE.id, alert_id[0]),
        )
    ctx = Context(now - timedelta(hours=1), now, timedelta(minutes=5), site_values)
    queries = [q for board in BOARDS for q in dashboard_queries(board)]
    assert len(queries) >= 20
    empty = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for q in queries:
            sql = ctx.expand(q.sql)
            assert "$" not in sql, f"{q.dashboard} {q.where}: unexpanded: {sql}"
            try:
                rows = conn.execute(sql).fetchall()
            except psycopg.Error as exc:
                pytest.fail(f"{q.dashboard} {q.where} failed: {exc}\n{sql}")
            # Data, not just a row: an aggregate over nothing still gives one row of 0 or NULL.
            if not any(v not in (None, 0, "") for row in rows for v in row):
                empty.append(f"{q.dashboard} {q.where}")
    assert not empty, f"queries without rows: {empty}"
