"""The degraded-camera alert rule on a real database: heartbeats as ingest stores them.

A camera whose heartbeats say ``degraded`` or ``error`` without an ``ok`` one between fires
``camera-degraded:CAM`` once that has lasted ``degraded_minutes``, and clears at its next ``ok``
heartbeat; a camera that flaps (one ``ok`` heartbeat inside each bad stretch) never fires; a
degraded camera that then falls silent is a silent camera (the degraded alert clears).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from retail_site import retail_site

from cloud.alerts.run import AlertSettings, alert_pass
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import CameraHeartbeat

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _beat(site_id: str, camera: str, minute: float, status: str) -> CameraHeartbeat:
    return CameraHeartbeat(
        site_id=site_id,
        camera_id=camera,
        node_id="test",
        run_id="0" * 32,
        sent_at=T0 + timedelta(minutes=minute),
        interval_s=30.0,
        frames=300 if status == "ok" else 40,
        fps=10.0 if status == "ok" else 1.3,
        target_fps=10.0,
        dropped_frames=0 if status == "ok" else 260,
        status=status,
    )


def _status(minute: float, bad: list[tuple[float, float, str]]) -> str:
    for a, b, status in bad:
        if a <= minute < b:
            return status
    return "ok"


def test_degraded_camera_fires_after_its_minutes_clears_on_ok_and_a_flapping_one_never_fires(
    database_url: str,
) -> None:
    site = retail_site({"cameras": {"silent_minutes": 5, "degraded_minutes": 10}})
    assert len(site.cameras) >= 3
    sick, flapping, gone = (c.id for c in site.cameras[:3])
    # bad stretches per camera, minutes from T0 [from, to): heartbeats every 30 s
    plan: dict[str, list[tuple[float, float, str]]] = {
        sick: [(10.0, 18.0, "degraded"), (18.0, 22.0, "error"), (22.0, 30.0, "degraded")],
        flapping: [(5.0, 13.0, "degraded"), (13.5, 21.5, "degraded"), (22.0, 30.0, "error")],
        gone: [(40.0, 60.0, "degraded")],
    }
    beats = []
    for cam in site.cameras:
        end = 52.0 if cam.id == gone else 60.0  # ``gone`` falls silent after 52:00
        minute = 0.0
        while minute <= end:
            beats.append(_beat(site.id, cam.id, minute, _status(minute, plan.get(cam.id, []))))
            minute += 0.5
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write(beats)

        def at(minute: float) -> dict[str, int]:
            return alert_pass(conn, [site], AlertSettings(), T0 + timedelta(minutes=minute))

        def open_() -> dict[str, str]:
            return dict(
                conn.execute(
                    "SELECT alert_key, message FROM alert WHERE cleared_at IS NULL"
                ).fetchall()
            )

        assert at(5) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        # sick: bad since 10:00; at 19:45 that is 9.75 min (an error heartbeat keeps it bad)
        assert at(19.75)["fired"] == 0
        assert at(20.25)["fired"] == 1
        assert open_() == {
            f"camera-degraded:{sick}": f"camera {site.cameras[0].name} has been error "
            "for 10 min (limit 10 min)"
        }
        # flapping: one ok heartbeat at 13:00 and at 21:30, so bad for 8 min at most
        assert at(29.75) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        # sick is ok again from 30:00: cleared; flapping has been bad 8 min
        assert at(30.25) == {"fired": 0, "cleared": 1, "sent": 0, "failed": 0}
        # flapping was ok again from 30:00 too: it never fired
        assert at(35) == {"fired": 0, "cleared": 0, "sent": 0, "failed": 0}
        # gone: degraded from 40:00, 10 min at 50:00
        assert at(50.25)["fired"] == 1
        assert list(open_()) == [f"camera-degraded:{gone}"]
        # gone sends nothing after 52:00: silent after 57:00, and no longer counted degraded
        assert at(57.25) == {"fired": 1, "cleared": 1, "sent": 0, "failed": 0}
        assert list(open_()) == [f"camera-silent:{gone}"]
        rows = conn.execute(
            "SELECT alert_key, severity, clear_message FROM alert ORDER BY fired_at"
        ).fetchall()
    assert [r[0] for r in rows] == [
        f"camera-degraded:{sick}",
        f"camera-degraded:{gone}",
        f"camera-silent:{gone}",
    ]
    assert rows[0][1] == "warning" and rows[2][1] == "critical"
    assert rows[0][2] == f"camera {site.cameras[0].name} is no longer degraded (last status ok)"
    assert rows[2][2] is None
