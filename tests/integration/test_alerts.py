"""Alerts on a real database, delivered to a real local HTTP receiver.

The camera rule fires when a camera falls silent; its webhook receiver is DOWN (nothing listens
on its port) for the first attempts, which are retried with backoff from the durable outbox;
once the receiver is up the alert arrives, HMAC-signed, and when the camera is back the clear
arrives after it. The worker's clock is passed in, so backoff is checked without sleeping.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from dashboard_replay import free_port
from fastapi.testclient import TestClient
from retail_site import STORE, retail_site

from cloud.alerts.run import AlertSettings, alert_pass
from cloud.alerts.webhooks import verify
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import CameraHeartbeat

pytestmark = pytest.mark.integration

SECRET_ENV = "FOOTFALL_TEST_WEBHOOK_SECRET"
SECRET = "s3cret-for-the-test"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Receiver:
    """A real HTTP server on a fixed port, started only when asked (until then: down)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.got: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    yield r
    r.stop()


def _beats(site_id: str, camera: str, start: datetime, end: datetime) -> list[CameraHeartbeat]:
    out = []
    at = start
    while at <= end:
        out.append(
            CameraHeartbeat(
                site_id=site_id,
                camera_id=camera,
                node_id="test",
                run_id="0" * 32,
                sent_at=at,
                interval_s=30.0,
                frames=300,
                fps=10.0,
                target_fps=10.0,
                dropped_frames=0,
                status="ok",
            )
        )
        at += timedelta(seconds=30)
    return out


def test_a_silent_camera_alert_reaches_a_receiver_that_was_down_and_clears(
    database_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    hook = {
        "name": "ops",
        "url": f"http://127.0.0.1:{receiver.port}/hook",
        "secret_env": SECRET_ENV,
    }
    site = retail_site({"cameras": {"silent_minutes": 5}, "webhooks": [hook]})
    quiet = site.cameras[-1].id
    settings = AlertSettings(retry_base_s=2, retry_max_s=60)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        writer.write(
            [b for c in site.cameras for b in _beats(site.id, c.id, T0, T0 + timedelta(minutes=10))]
        )
        others = [c.id for c in site.cameras if c.id != quiet]
        writer.write(
            [
                b
                for c in others
                for b in _beats(site.id, c, T0 + timedelta(minutes=10), T0 + timedelta(minutes=30))
            ]
        )

        def at(minutes: float) -> dict[str, int]:
            return alert_pass(conn, [site], settings, T0 + timedelta(minutes=minutes))

        assert at(12) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        # 16 min: the last camera is 6 min silent; the receiver is down: attempt 1 fails
        assert at(16) == {"fired": 1, "cleared": 0, "sent": 0, "failed": 1}
        assert at(16 + 1 / 60) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}  # not due
        assert at(16 + 2 / 60)["failed"] == 1  # retried after 2 s, fails again
        assert at(16 + 5 / 60)["failed"] == 0  # the next wait is 4 s
        assert at(16 + 6 / 60)["failed"] == 1  # attempt 3 fails; next after 8 s
        row = conn.execute(
            "SELECT attempts, last_error, delivered_at FROM webhook_outbox"
        ).fetchone()
        assert row is not None and row[0] == 3 and row[2] is None
        assert "ConnectError" in str(row[1])
        receiver.start()
        assert at(16 + 10 / 60) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        assert at(16 + 14 / 60) == {"fired": 0, "cleared": 0, "sent": 1, "failed": 0}
        # the camera is back at 20 min: the alert clears, and the clear is delivered at once
        writer.write(_beats(site.id, quiet, T0 + timedelta(minutes=20), T0 + timedelta(minutes=21)))
        assert at(21) == {"fired": 0, "cleared": 1, "sent": 1, "failed": 0}
        assert at(22) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        token = create_key(conn, site.id, "test")

    events = []
    for delivery in receiver.got:
        h = delivery["headers"]
        assert delivery["path"] == "/hook"
        assert verify(
            SECRET.encode(), h["X-Footfall-Timestamp"], delivery["body"], h["X-Footfall-Signature"]
        )
        assert not verify(
            b"another secret",
            h["X-Footfall-Timestamp"],
            delivery["body"],
            h["X-Footfall-Signature"],
        )
        body = json.loads(delivery["body"])
        assert body["event"] == h["X-Footfall-Event"]
        events.append((body["event"], body["alert"]["key"], body["alert"]["cleared_at"]))
    assert [e[:2] for e in events] == [
        ("alert.fired", f"camera-silent:{quiet}"),
        ("alert.cleared", f"camera-silent:{quiet}"),
    ]
    assert events[0][2] is None and events[1][2] is not None

    with TestClient(create_app(ApiSettings(database_url, [site]))) as c:
        body = c.get(
            f"/v1/sites/{site.id}/alerts?from=2026-11-20T00:00Z&to=2026-11-21T00:00Z",
            headers={"X-API-Key": token},
        ).json()
    assert body["open"] == 0 and body["webhooks"] == ["ops"]
    (alert,) = body["rows"]
    assert alert["alert_key"] == f"camera-silent:{quiet}"
    assert (alert["deliveries"], alert["delivered"], alert["pending"]) == (2, 2, 0)
    assert "sent no heartbeat for 6 min" in alert["message"]
    assert alert["cleared_at"] is not None


def test_occupancy_and_entrance_rules_fire_and_clear(database_url: str) -> None:
    site = retail_site(
        {
            "occupancy": [{"zone": STORE, "capacity": 3, "clear_below": 0.5}],
            "entrances": {"weeks": 2, "tolerance": 0.5, "min_usual": 10},
        }
    )
    settings = AlertSettings()
    line = "plaza-east-gate-line"
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        # 5 people in the store at 09:30 (zone visits as ingest derives them)
        for i in range(5):
            conn.execute(
                "INSERT INTO zone_visit VALUES (%s, %s, 'pets-view1', %s, %s, %s, 60)",
                (site.id, STORE, f"t{i}", T0, T0 + timedelta(minutes=30 if i < 2 else 31)),
            )
        # entries 08:00-09:00: 40 on each of the two past Fridays, 10 today
        for day, n in ((14, 40), (7, 40), (0, 10)):
            conn.execute(
                "INSERT INTO footfall_minute VALUES (%s, %s, %s, %s, 0)",
                (site.id, line, T0 - timedelta(days=day, minutes=30), n),
            )
        conn.commit()
        first = alert_pass(conn, [site], settings, T0 + timedelta(minutes=30))
        assert first["fired"] == 2
        messages = dict(
            conn.execute("SELECT alert_key, message FROM alert WHERE cleared_at IS NULL").fetchall()
        )
        assert (
            messages[f"occupancy:{STORE}"]
            == "Plaza walkway holds 5 people, above its capacity of 3"
        )
        assert messages["entrances"].startswith("entries Fri 20 Nov 08:00-09:00 were 10, usual")
        assert "is 40 (-75%)" in messages["entrances"]
        # 3 people at 09:30:15: at capacity, but not yet at half of it: the alert holds
        assert (
            alert_pass(conn, [site], settings, T0 + timedelta(minutes=30, seconds=15))["cleared"]
            == 0
        )
        # 10:00: nobody in the store; the 09:00 hour had no usual level: both clear
        later = alert_pass(conn, [site], settings, T0 + timedelta(hours=1))
        assert later["cleared"] == 2
        assert conn.execute("SELECT count(*) FROM alert WHERE cleared_at IS NULL").fetchone() == (
            0,
        )


def test_the_worker_refuses_a_webhook_without_its_secret(tmp_path: Any) -> None:
    from footfall.cli import main

    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: tiny, name: Tiny, timezone: Europe/London}\n"
        "floors: [{id: l0, name: Ground, level: 0, width_m: 10, depth_m: 10}]\n"
        "alerts:\n  webhooks:\n"
        "    - {name: ops, url: 'http://127.0.0.1:9/x', secret_env: FOOTFALL_NO_SUCH_SECRET}\n"
    )
    result = CliRunner().invoke(main, ["cloud", "alerts", "--once", "--site", str(path)])
    assert result.exit_code == 1, result.output
    assert "FOOTFALL_NO_SUCH_SECRET, which is not set" in result.output
    assert "Traceback" not in result.output
