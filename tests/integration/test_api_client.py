"""A client generated from the API's OpenAPI document parses the API's real answers.

The document is generated from the response models (``cloud/api/models.py``); a client's models
are generated from the document with datamodel-code-generator, as an integrator would, and every
JSON answer of every operation, over real data in TimescaleDB, must parse with them.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from fastapi.testclient import TestClient
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import CameraHeartbeat, FrameObservations, new_run_id
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RANGE = "from=2026-11-20T09:00Z&to=2026-11-20T10:00Z&bucket=15m"
VISITOR = "00c0ffee00c0ffee"


def generated_client(document: str, folder: Path) -> ModuleType:
    """Pydantic models generated from the OpenAPI document, imported as a module."""
    source, target = folder / "openapi.json", folder / "client_models.py"
    source.write_text(document)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(source),
            "--input-file-type",
            "openapi",
            "--output",
            str(target),
            "--output-model-type",
            "pydantic_v2.BaseModel",
        ],
        check=True,
    )
    spec = importlib.util.spec_from_file_location("client_models", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["client_models"] = module  # pydantic resolves the models' annotations here
    spec.loader.exec_module(module)
    return module


def test_a_generated_client_parses_every_real_answer(database_url: str, tmp_path: Path) -> None:
    messages = site_messages(SITE, T0, duration_s=600, fps=1, walkers_per_minute=6, seed=4)
    run_id = new_run_id()
    beats = [
        CameraHeartbeat(
            site_id=SITE.id,
            camera_id=camera.id,
            node_id="synthetic",
            run_id=run_id,
            sent_at=T0 + timedelta(seconds=60 * i),
            interval_s=60.0,
            frames=60,
            fps=1.0,
            target_fps=1.0,
            dropped_frames=0,
            status="ok",
        )
        for camera in SITE.cameras
        for i in range(1, 5)
    ]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write(
            [m for m in messages if isinstance(m, FrameObservations)] + beats
        )
        derive_all_dirty(conn, SITE)
        key = create_key(conn, SITE.id, "generated client test")
        # One local track stitched to a visitor id, as the stitcher records it.
        conn.execute(
            "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, started_at, "
            "mode, visitor_id, ended_at) SELECT site_id, camera_id, 'r', track_id, first_at, "
            "'combined', %s, last_at FROM track ORDER BY first_at LIMIT 1",
            (VISITOR,),
        )
        conn.commit()

    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as client:
        client.headers["X-API-Key"] = key
        document = client.get("/openapi.json")
        client_models = generated_client(document.text, tmp_path)
        site = f"/v1/sites/{SITE.id}"
        visitors = client.get(f"{site}/visitors?{RANGE}").json()["rows"]
        assert visitors[0]["visitor_id"] == VISITOR and visitors[0]["stitched"]
        camera, track = visitors[1]["visitor_id"].split("/")
        assert visitors[1]["track_ids"] == f"{camera}/{track}"
        calls = {
            "footfall": (f"footfall?{RANGE}", "Footfall"),
            "occupancy/now": ("occupancy/now?at=2026-11-20T09:05Z", "OccupancyNow"),
            "occupancy": (f"occupancy?{RANGE}", "Occupancy"),
            "dwell": (f"dwell?{RANGE}", "Dwell"),
            "dwell/distribution": (f"dwell/distribution?{RANGE}", "DwellDistribution"),
            "flows": (f"flows?{RANGE}", "Flows"),
            "heatmap": (f"heatmap?{RANGE}", "Heatmap"),
            "visitors": (f"visitors?{RANGE}", "Visitors"),
            "visitors/summary": (f"visitors/summary?{RANGE}", "VisitorSummary"),
            "visitors/{camera}/{track}": (f"visitors/{camera}/{track}", "Trajectory"),
            "visitors/{visitor}": (f"visitors/{VISITOR}", "VisitorTrajectory"),
            "cameras": ("cameras", "Cameras"),
            "cameras/history": (f"cameras/history?{RANGE}", "CameraHistory"),
            "overview": ("overview?at=2026-11-20T09:30", "Overview"),
            "layout": ("layout", "Layout"),
            "conversion": (f"conversion?{RANGE}", "Conversion"),
            "alerts": (f"alerts?{RANGE}", "Alerts"),
            "compare": (f"compare?{RANGE}", "Comparison"),
            "staff": (f"staff?{RANGE}", "Staff"),
            "groups": (f"groups?{RANGE}", "Groups"),
            "queues": (f"queues?{RANGE}", "Queues"),
            "occupancy/site": (f"occupancy/site?{RANGE}", "SiteOccupancy"),
        }
        for url, model in calls.values():
            answer = client.get(f"{site}/{url}")
            assert answer.status_code == 200, (url, answer.text[:300])
            parsed = getattr(client_models, model).model_validate(answer.json())
            assert parsed.model_dump(by_alias=True, exclude_none=True), url

        # Every operation that answers JSON is checked above: a new one must be added here.
        json_operations = {
            path.removeprefix("/v1/sites/{site}/")
            for path, methods in document.json()["paths"].items()
            if path.startswith("/v1/sites/")
            and "get" in methods
            and "$ref"
            in methods["get"]["responses"]["200"]
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        }
        assert json_operations == set(calls)
