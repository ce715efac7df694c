"""The live demo's alerts worker (``footfall cloud alerts`` with the demo's two sites, started
as the demo starts its children) runs and stops cleanly on the SIGTERM the demo sends at
Ctrl-C: exit 0 within the demo's wait, no traceback."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from footfall.demo import MALL_SITE, _Children, cloud_workers

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _migrated(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT to_regclass('alert') IS NOT NULL").fetchone()
    return bool(row and row[0])


def test_the_demo_alerts_worker_runs_and_stops_cleanly(tmp_path: Path, database_url: str) -> None:
    sites = ["--site", str(REPO / "configs/sites/demo.yaml"), "--site", str(REPO / MALL_SITE)]
    workers = {name: args for name, _, args in cloud_workers(
        ["--database-url", database_url], ["--bootstrap-servers", "unused:1"], sites, 1
    )}  # fmt: skip
    children = _Children(tmp_path)
    worker = children.start("alerts", "the demo's alerts worker", *workers["alerts"])
    try:
        deadline = time.monotonic() + 60
        while not _migrated(database_url):  # it is in its loop once its tables are there
            assert worker.process.poll() is None, (tmp_path / "demo-alerts.log").read_text()
            assert time.monotonic() < deadline, "the alerts worker did not start within 60 s"
            time.sleep(0.2)
        time.sleep(1.0)  # a pass
        assert worker.process.poll() is None, (tmp_path / "demo-alerts.log").read_text()
    finally:
        notes = children.stop()
    log = (tmp_path / "demo-alerts.log").read_text()
    assert notes == [] and worker.process.returncode == 0, log
    assert "Traceback" not in log and "Error" not in log, log
