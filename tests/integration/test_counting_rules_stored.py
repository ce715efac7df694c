"""Settings that describe stored data are stored with it (issue 15).

Ingest derives crossings, visits and heatmap cells with its site config's ``counting:`` rules and
records them in the database. Started for the same site with other rules, ingest, recompute and
the API refuse in one sentence naming the fix, instead of serving or storing numbers made with
two rule sets; with the same rules the API's heatmap and crossings equal an in-process
computation from the published messages; ``recompute --adopt-rules`` re-derives everything with
new rules, after which the API serves numbers at those rules. Real broker, ingest and API
processes on the local test stack.
"""

from __future__ import annotations

import math
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import yaml
from dashboard_replay import free_port
from fastapi.testclient import TestClient
from ingest_cli import ingest_args
from psycopg.types.json import Jsonb
from synthetic import site_messages

from cloud.analytics.rules import RulesMismatch, stored_rules
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.transport.kafka import MessagePublisher, ensure_topics
from footfall.contract import FrameObservations, Message
from footfall.site import CountingRules, Site, load_site
from footfall.site.rules import Track, line_crossings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RANGE = "from=2026-11-20T08:00Z&to=2026-11-20T12:00Z"
OTHER = {
    "heatmap_cell_m": 1.0,
    "line_hysteresis_m": 0.6,
    "line_establish_s": 0.0,
    "min_visit_s": 3.0,
}


def other_rules_site(folder: Path) -> Path:
    """The demo site with other counting rules (same site id)."""
    data = yaml.safe_load(SITE_FILE.read_text())
    for camera in data["cameras"]:
        if "://" not in camera["source"]:
            camera["source"] = str((SITE_FILE.parent / camera["source"]).resolve())
    data["counting"] = OTHER
    path = folder / "demo-other-rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def footfall_cli(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "footfall.cli", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def expected_crossings(site: Site, messages: list[Message]) -> Counter[str]:
    """In-process: (line, direction) counts of every local track, the site's rules."""
    points: dict[tuple[str, str], list[tuple[datetime, str, float, float]]] = defaultdict(list)
    for m in messages:
        if isinstance(m, FrameObservations):
            for o in m.tracks:
                if o.floor_xy is not None and o.floor_id is not None:
                    points[(m.camera_id, o.track_id)].append(
                        (m.captured_at, o.floor_id, o.floor_xy[0], o.floor_xy[1])
                    )
    out: Counter[str] = Counter()
    for pts in points.values():
        pts.sort()
        track = Track.columns(*zip(*pts, strict=True))
        for line in site.lines:
            rules = site.counting
            for c in line_crossings(track, line, rules.line_hysteresis_m, rules.line_establish_s):
                out[f"{line.id}/{'in' if c.direction > 0 else 'out'}"] += 1
    return out


def expected_heatmap(messages: list[Message], cell_m: float) -> Counter[tuple[int, int]]:
    out: Counter[tuple[int, int]] = Counter()
    for m in messages:
        if isinstance(m, FrameObservations):
            for o in m.tracks:
                if o.floor_xy is not None and o.floor_id == "l0":
                    out[
                        (math.floor(o.floor_xy[0] / cell_m), math.floor(o.floor_xy[1] / cell_m))
                    ] += 1
    return out


def served(
    site: Site, url: str, token: str
) -> tuple[Counter[str], float, Counter[tuple[int, int]]]:
    """The API's crossings (line/direction), base heatmap cell and cells, whole range."""
    with TestClient(create_app(ApiSettings(url, [site]))) as client:
        ok = {"X-API-Key": token}
        rows = client.get(f"/v1/sites/demo/footfall?{RANGE}&bucket=1d", headers=ok).json()["rows"]
        heat = client.get(f"/v1/sites/demo/heatmap?{RANGE}&bucket=1d&floor=l0", headers=ok).json()
    crossings: Counter[str] = Counter()
    for row in rows:
        crossings[f"{row['line_id']}/in"] += row["ins"]
        crossings[f"{row['line_id']}/out"] += row["outs"]
    cells: Counter[tuple[int, int]] = Counter()
    for bucket in heat["buckets"].values():
        for cx, cy, n in bucket:
            cells[(cx, cy)] += n
    return +crossings, heat["cell_m"], cells


def refused(result: subprocess.CompletedProcess[str], where: Path) -> str:
    """The one-sentence refusal of a process started with rules other than the stored ones."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert line.startswith("Error: site 'demo': the stored crossings, visits and heatmap were "), (
        line
    )
    assert "heatmap_cell_m=0.5" in line and f"but {where} says" in line, line
    assert "heatmap_cell_m=1" in line and "--adopt-rules" in line, line
    return line


def test_processes_with_other_counting_rules_agree_or_refuse(
    tmp_path: Path, database_url: str, bootstrap_servers: str
) -> None:
    site = load_site(SITE_FILE)
    other_file = other_rules_site(tmp_path)
    other = load_site(other_file)
    assert other.id == site.id and other.counting != site.counting == CountingRules()
    ns = f"rules{uuid.uuid4().hex[:8]}"
    messages = site_messages(site, T0, 180.0, fps=5.0, walkers_per_minute=30.0, seed=7)
    ensure_topics(bootstrap_servers, namespace=ns)
    publisher = MessagePublisher(bootstrap_servers, ns)
    try:
        publisher.send(messages)
    finally:
        publisher.close()

    done = footfall_cli(*ingest_args(database_url, bootstrap_servers, ns, "--idle-exit-s", "5"))
    assert done.returncode == 0, done.stderr[-3000:]
    with psycopg.connect(database_url) as conn:
        assert stored_rules(conn, "demo") == site.counting
        token = create_key(conn, "demo", "test")

    # Same rules: the API serves what an in-process computation gives.
    crossings, cell_m, cells = served(site, database_url, token)
    assert crossings == expected_crossings(site, messages) and sum(crossings.values()) > 10
    assert cell_m == 0.5 and cells == expected_heatmap(messages, 0.5)

    # Other rules: the API, ingest and recompute refuse, in one sentence naming the fix.
    api = footfall_cli(
        "cloud", "api", "--database-url", database_url, "--site", other_file,
        "--port", free_port(), timeout=60,
    )  # fmt: skip
    refused(api, other_file)
    with pytest.raises(RulesMismatch), TestClient(create_app(ApiSettings(database_url, [other]))):
        pass
    again = footfall_cli(
        *ingest_args(
            database_url, bootstrap_servers, ns, "--idle-exit-s", "5", site_file=other_file
        )
    )
    refused(again, other_file)
    recompute = footfall_cli(
        "cloud", "recompute", "--database-url", database_url, "--site", other_file,
        "--from", "2026-11-20T08:00:00", "--to", "2026-11-20T12:00:00",
    )  # fmt: skip
    refused(recompute, other_file)
    assert served(site, database_url, token) == (crossings, cell_m, cells)  # nothing changed

    # Adopting the other rules re-derives all stored data; then only they are served.
    adopt = footfall_cli(
        "cloud", "recompute", "--database-url", database_url, "--site", other_file,
        "--adopt-rules",
    )  # fmt: skip
    assert adopt.returncode == 0, adopt.stderr[-3000:]
    assert (
        "recorded line_hysteresis_m=0.6, line_establish_s=0, min_visit_s=3, visit_gap_s=2, "
        "heatmap_cell_m=1" in adopt.stdout
    )
    assert "min_visitor_s" not in adopt.stdout  # applied when the API answers, not stored
    with psycopg.connect(database_url) as conn:
        assert stored_rules(conn, "demo") == other.counting
    crossings, cell_m, cells = served(other, database_url, token)
    assert crossings == expected_crossings(other, messages)
    assert crossings != expected_crossings(site, messages)  # the rules made a difference
    assert cell_m == 1.0 and cells == expected_heatmap(messages, 1.0)
    with pytest.raises(RulesMismatch), TestClient(create_app(ApiSettings(database_url, [site]))):
        pass


def test_rules_recorded_before_line_establish_s_are_refused_with_the_fix(database_url: str) -> None:
    """A site_rules row written before line_establish_s existed: its data was derived with every
    confirmed side counting at once, so a config with today's default is refused (one sentence,
    the recompute fix), one that says line_establish_s: 0 agrees, and adopting records the
    field."""
    from cloud.analytics.rules import adopt_rules, agree_rules
    from cloud.migrate import migrate

    site = load_site(SITE_FILE)
    old = {"line_hysteresis_m": 0.3, "min_visit_s": 5.0, "visit_gap_s": 2.0, "heatmap_cell_m": 0.5}
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO site_rules (site_id, rules) VALUES (%s, %s)", (site.id, Jsonb(old))
        )
        conn.commit()
        with pytest.raises(RulesMismatch) as info:
            agree_rules(conn, site)
        text = str(info.value)
        now = f"line_establish_s={site.counting.line_establish_s:g},"
        assert "line_establish_s=0," in text and now in text and now != "line_establish_s=0,", text
        assert "--adopt-rules" in text and "\n" not in text
        before = site.model_copy(update={"counting": CountingRules(line_establish_s=0.0)})
        assert agree_rules(conn, before) == before.counting
        adopt_rules(conn, site)
        conn.commit()
        assert agree_rules(conn, site) == site.counting
        row = conn.execute("SELECT rules FROM site_rules WHERE site_id = %s", (site.id,))
        assert row.fetchone()[0]["line_establish_s"] == site.counting.line_establish_s  # type: ignore[index]


def test_min_visitor_s_asks_for_no_recompute_and_other_rules_still_do(database_url: str) -> None:
    """counting.min_visitor_s is applied when the API answers (visitors/summary), so no stored
    row depends on it: a config that changes only it agrees with the stored rules (also those
    recorded with it, before it was left out) and the API starts; a change of a setting the rows
    are derived with is still refused with the recompute fix."""
    from cloud.analytics.rules import agree_rules
    from cloud.migrate import migrate

    site = load_site(SITE_FILE)
    fewer = site.model_copy(
        update={"counting": site.counting.model_copy(update={"min_visitor_s": 4.0})}
    )
    visits = site.model_copy(
        update={"counting": site.counting.model_copy(update={"min_visit_s": 3.0})}
    )
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        assert agree_rules(conn, site) == site.counting  # records them
        recorded = conn.execute("SELECT rules FROM site_rules WHERE site_id = %s", (site.id,))
        assert "min_visitor_s" not in recorded.fetchone()[0]  # type: ignore[index,operator]
        assert agree_rules(conn, fewer) == fewer.counting
        with pytest.raises(RulesMismatch) as info:
            agree_rules(conn, visits)
        assert "min_visit_s=3" in str(info.value) and "--adopt-rules" in str(info.value)
        assert "min_visitor_s" not in str(info.value)
        # Rules recorded with min_visitor_s (before it was left out) agree whatever it says.
        conn.execute(
            "UPDATE site_rules SET rules = %s WHERE site_id = %s",
            (Jsonb(site.counting.model_dump() | {"min_visitor_s": 30.0}), site.id),
        )
        conn.commit()
        assert agree_rules(conn, fewer) == fewer.counting
    with TestClient(create_app(ApiSettings(database_url, [fewer]))) as client:
        assert client.get("/healthz").status_code == 200
    with pytest.raises(RulesMismatch), TestClient(create_app(ApiSettings(database_url, [visits]))):
        pass
