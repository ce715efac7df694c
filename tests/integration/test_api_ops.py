"""What operations rely on: liveness and readiness probes, and camera staleness decided once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import CameraHeartbeat, new_run_id
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")


def test_liveness_and_readiness(database_url: str, bootstrap_servers: str) -> None:
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {
            "status": "ready",
            "database": "ok",
            "broker": "not checked",
        }
    with TestClient(
        create_app(ApiSettings(database_url, [SITE], bootstrap_servers=bootstrap_servers))
    ) as client:
        assert client.get("/readyz").json()["broker"] == "ok"
    # Nothing listens on port 9 (discard): the broker is not there.
    with TestClient(
        create_app(ApiSettings(database_url, [SITE], bootstrap_servers="127.0.0.1:9"))
    ) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and "Retry-After" in answer.headers
        assert "the broker at 127.0.0.1:9 does not answer" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200  # alive, though not ready


def test_a_camera_without_recent_heartbeats_is_silent(database_url: str) -> None:
    now = datetime.now(UTC)
    run_id = new_run_id()

    def beat(camera: str, ago_s: float) -> CameraHeartbeat:
        return CameraHeartbeat(
            site_id=SITE.id,
            camera_id=camera,
            node_id="node",
            run_id=run_id,
            sent_at=now - timedelta(seconds=ago_s),
            interval_s=10.0,
            frames=100,
            fps=10.0,
            target_fps=10.0,
            dropped_frames=0,
            status="ok",
        )

    fresh, quiet, *never = [c.id for c in SITE.cameras]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write([beat(fresh, 5), beat(quiet, 600)])
        key = create_key(conn, SITE.id, "ops test")
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as client:
        cameras = {
            c["camera_id"]: c
            for c in client.get(f"/v1/sites/{SITE.id}/cameras", headers={"X-API-Key": key}).json()[
                "cameras"
            ]
        }
    assert cameras[fresh]["status"] == "ok"
    assert cameras[quiet]["status"] == "silent"
    assert cameras[quiet]["detail"].startswith("no heartbeat for 6")  # ~600 s
    assert "last said ok" in cameras[quiet]["detail"]
    assert all(cameras[c]["status"] == "unknown" for c in never)
