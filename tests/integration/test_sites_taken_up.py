"""`footfall cloud api` and `footfall cloud stitch` take up a site file added to the sites folder
after they started (issue 19: only ingest did; the API answered 404 and the stitcher never
stitched the site until restarted), by ingest's rules: a file that does not load, or whose
counting rules disagree with the stored data's, is one log sentence and left out, and the rest
keeps being served. A site file removed from the folder stops its site being served (one log
sentence naming the file), without a restart."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from dashboard_replay import free_port
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.analytics.rules import adopt_rules
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.site_configs import LiveSites
from footfall.contract import FrameObservations, Message, TrackletEnded
from footfall.site import Site, load_site
from footfall.site.folder import SitesWatch

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "sites" / "demo.yaml"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RESCAN_S = 0.5


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """The sites folder the commands watch, holding the demo site's file."""
    path = tmp_path / "sites"
    path.mkdir()
    shutil.copy(DEMO, path / "demo.yaml")
    return path


def annex_file(folder: Path, name: str = "annex.yaml") -> Path:
    """The demo site under another id, ``annex``, written to ``folder``."""
    path = folder / name
    path.write_text(DEMO.read_text().replace("  id: demo\n", "  id: annex\n", 1))
    return path


def store_annex(database_url: str, folder: Path) -> Site:
    """Two minutes of the annex's cameras, stored (the file is read from a scratch folder: the
    test's folder has no annex yet)."""
    scratch = folder.parent / "annex-source"
    scratch.mkdir(exist_ok=True)
    return store(database_url, load_site(annex_file(scratch)))


def store(database_url: str, site: Site) -> Site:
    """Two minutes of ``site``'s cameras, with their tracklets' ends, stored and derived as
    ingest would."""
    frames = [
        m
        for m in site_messages(site, T0, duration_s=120, fps=2, walkers_per_minute=10, seed=3)
        if isinstance(m, FrameObservations)
    ]
    seen: dict[tuple[str, str, str], list[datetime]] = {}
    for f in frames:
        for t in f.tracks:
            seen.setdefault((f.camera_id, f.run_id, t.track_id), []).append(f.captured_at)
    ends: list[Message] = [
        TrackletEnded(
            site_id=site.id,
            camera_id=camera,
            node_id="synthetic",
            run_id=run,
            track_id=track,
            started_at=times[0],
            ended_at=times[-1],
            frame_count=len(times),
        )
        for (camera, run, track), times in seen.items()
    ]
    assert ends
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write([*frames, *ends])
        derive_all_dirty(conn, site)
    return site


def serve(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "footfall.cli", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )


def stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, then all it printed."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out


def get(port: int, path: str, key: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if key:
        request.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def create_key(database_url: str, folder: Path, site_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "footfall.cli", "cloud", "apikey", "create", "--database-url",
         database_url, "--site", site_id, "--sites-dir", str(folder)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip


def wait_for(check: object, timeout_s: float, what: str, proc: subprocess.Popen[str]) -> float:
    """Seconds until ``check()`` is true (polled every 0.1 s)."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the process ended while waiting for {what}: {out}")
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"no {what} within {timeout_s} s")
        time.sleep(0.1)
    return time.monotonic() - started


def serve_api(database_url: str, folder: Path) -> tuple[subprocess.Popen[str], int]:
    """`footfall cloud api` on ``folder``, rescanning it every RESCAN_S, once it answers."""
    port = free_port()
    api = serve(
        ["cloud", "api", "--database-url", database_url, "--sites-dir", str(folder),
         "--port", str(port), "--sites-rescan-s", str(RESCAN_S)]
    )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), 60, "API", api)
    except BaseException:
        stop(api)
        raise
    return api, port


def test_the_api_serves_a_site_file_added_after_it_started(folder: Path, database_url: str) -> None:
    store_annex(database_url, folder)
    refused = create_key(database_url, folder, "annex")  # not configured yet
    assert refused.returncode == 1 and "site 'annex' is not a configured site" in refused.stderr
    demo_key = create_key(database_url, folder, "demo").stdout.strip()
    api, port = serve_api(database_url, folder)
    try:
        path = "/v1/sites/annex/footfall?from=2026-11-20T09:00&to=2026-11-20T10:00&bucket=1h"
        annex_file(folder)
        made = create_key(database_url, folder, "annex")  # the folder has it now
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        (folder / "broken.yaml").write_text("site: {id: broken}\n")
        waited = wait_for(lambda: get(port, path, key)[0] == 200, 10 * RESCAN_S + 5, "annex", api)
        status, body = get(port, path, key)
        rows = json.loads(body)["rows"]
        assert status == 200 and sum(r["ins"] + r["outs"] for r in rows) > 0, body
        time.sleep(3 * RESCAN_S)  # the broken file is read too
        assert get(port, "/v1/sites/demo/layout", demo_key)[0] == 200  # the rest still served
    finally:
        out = stop(api)
    assert waited < 10 * RESCAN_S + 5
    assert "site config taken up: site=annex cameras=" in out
    left_out = [line for line in out.splitlines() if "broken.yaml" in line]
    assert len(left_out) == 1 and "site config left out: " in left_out[0], out
    assert left_out[0].endswith("; the API goes on without it")
    assert "Traceback" not in out


def _answers(port: int) -> bool:
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


def stitched(database_url: str, site_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM tracklet_visitor WHERE site_id = %s", (site_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_stitcher_stitches_a_site_file_added_after_it_started(
    folder: Path, database_url: str
) -> None:
    store_annex(database_url, folder)
    store(database_url, load_site(DEMO))
    stitcher = serve(
        ["cloud", "stitch", "--database-url", database_url, "--sites-dir", str(folder),
         "--interval-s", "0.2", "--sites-rescan-s", str(RESCAN_S)]
    )  # fmt: skip
    try:
        wait_for(lambda: stitched(database_url, "demo") > 0, 60, "stitched demo", stitcher)
        time.sleep(4 * RESCAN_S)  # passes and rescans: the annex is not among its sites yet
        assert stitched(database_url, "annex") == 0
        annex_file(folder)
        wait_for(lambda: stitched(database_url, "annex") > 0, 30, "stitched annex", stitcher)
    finally:
        out = stop(stitcher)
    assert "site config taken up: site=annex cameras=" in out
    assert "stitched site=annex mode=combined decided=" in out
    assert "Traceback" not in out


def test_a_site_file_whose_rules_disagree_is_left_out_and_the_old_set_stays_whole(
    folder: Path, tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    demo = load_site(folder / "demo.yaml")
    watch = SitesWatch(folder=folder)
    watch.changes()  # read before the sites are loaded, as the commands do
    configs = LiveSites([demo], watch, database_url, "the test")
    before = configs.by_id
    assert not configs.rescan()
    # The annex's stored data was derived with other rules than its file's.
    annex = load_site(annex_file(tmp_path))
    cell_m = annex.counting.heatmap_cell_m * 2
    other = annex.model_copy(
        update={"counting": annex.counting.model_copy(update={"heatmap_cell_m": cell_m})}
    )
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        adopt_rules(conn, other)
    annex_file(folder)
    (folder / "second.yaml").write_text(
        DEMO.read_text().replace("name: Footfall demo site", "name: Second")
    )  # another file of site 'demo'
    with caplog.at_level(logging.INFO, logger="cloud.site_configs"):
        assert not configs.rescan()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert any(
        "site 'annex': the stored crossings" in m and "the test goes on" in m for m in messages
    )
    assert any("defines site 'demo', already read from" in m for m in messages)
    assert configs.by_id is before and list(before) == ["demo"]
    # Set back to the stored rules, the file is taken up; the old mapping is left as it was.
    with psycopg.connect(database_url) as conn:
        adopt_rules(conn, annex)
    changed = folder / "annex.yaml"
    changed.write_text(changed.read_text() + "# rules set back\n")
    assert [s.id for s in configs.rescan().taken] == ["annex"]
    assert sorted(configs.by_id) == ["annex", "demo"] and list(before) == ["demo"]


def test_the_api_stops_serving_a_site_whose_file_was_removed(
    folder: Path, database_url: str
) -> None:
    annex = annex_file(folder)
    made = create_key(database_url, folder, "annex")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    demo_key = create_key(database_url, folder, "demo").stdout.strip()
    api, port = serve_api(database_url, folder)
    try:
        assert get(port, "/v1/sites/annex/layout", key)[0] == 200
        annex.unlink()
        waited = wait_for(
            lambda: get(port, "/v1/sites/annex/layout", key)[0] == 404,
            10 * RESCAN_S + 5,
            "annex no longer served",
            api,
        )
        assert (
            "site 'annex' is not configured in this API"
            in get(port, "/v1/sites/annex/layout", key)[1]
        )
        assert get(port, "/v1/sites/demo/layout", demo_key)[0] == 200  # the rest still served
        time.sleep(3 * RESCAN_S)  # later rescans say nothing more
    finally:
        out = stop(api)
    assert waited < 10 * RESCAN_S + 5
    removed = [line for line in out.splitlines() if "site config removed: " in line]
    assert len(removed) == 1, out
    assert removed[0].endswith(
        f"site config removed: {annex} is no longer in the sites folder, so the API no longer "
        "serves site 'annex'"
    ), removed
    assert "Traceback" not in out


def test_a_removed_file_drops_its_site_and_a_file_put_back_is_taken_up_again(
    folder: Path, tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    annex = annex_file(folder)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    watch = SitesWatch(folder=folder)
    watch.changes()  # read before the sites are loaded, as the commands do
    configs = LiveSites(
        [load_site(folder / "demo.yaml"), load_site(annex)], watch, database_url, "ingest"
    )
    before = configs.by_id
    text = annex.read_text()
    annex.unlink()
    with caplog.at_level(logging.INFO, logger="cloud.site_configs"):
        result = configs.rescan()
        assert not configs.rescan()  # said once
    assert result and result.dropped == ["annex"] and result.taken == []
    assert list(configs.by_id) == ["demo"] and sorted(before) == ["annex", "demo"]  # replaced
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        f"site config removed: {annex} is no longer in the sites folder, so ingest no longer "
        "serves site 'annex'"
    ]
    # Renamed back in under another name: the site is taken up again from its new file.
    (folder / "annex-again.yaml").write_text(text)
    result = configs.rescan()
    assert [s.id for s in result.taken] == ["annex"] and result.dropped == []
    assert configs.by_id["annex"].source_file == (folder / "annex-again.yaml").absolute()
    # The folder itself gone for a moment (being replaced): every site stays.
    folder.rename(tmp_path / "swapped")
    assert not configs.rescan() and sorted(configs.by_id) == ["annex", "demo"]
