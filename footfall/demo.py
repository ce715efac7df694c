"""``make demo`` / ``footfall demo``: the local stack, the real footage end to end, then a living
dashboard.

Each step is a real program and prints what it found: the stack comes up, the demo site's real
footage goes through the edge into the broker, the cloud ingests and stitches it, and the
counts are printed next to the ground truth of the clips that have one (the same frames, the
same counting rules: :mod:`footfall.evaluation.counting`). Then, unless ``--no-serve``, the demo
keeps the cloud running as child processes it supervises (ingest and stitching of both sites,
the alerts worker, the API with its dashboard) and feeds a simulated two-floor mall into the
same broker on this clock (``footfall simulate --live``), prints one address that signs in to
its dashboard, and runs until Ctrl-C or SIGTERM, which stop every child cleanly.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from footfall.errors import UserError
from footfall.site import Site, SiteConfigError, load_site
from footfall.stack import StackError, StackProfile, profile_for, stack_up

DEMO_FRAMES = 100
MALL_SITE = "configs/sites/two_floor_mall.yaml"
MALL_SCENARIO = "moderate"
"""Around the lunch peak (6,000 visitors a day): every dashboard page has moving data."""
MALL_WINDOW_S = 8 * 3600
"""How long the simulated mall runs (its crowd follows the scenario's hours from 11:30)."""
GT_MANIFEST = Path(__file__).resolve().parents[1] / "configs" / "eval" / "all.yaml"
"""Which demo cameras' clips have ground truth (sequences with ``site`` and ``camera``)."""
STOP_WAIT_S = 20.0


def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


def _footfall(*args: str) -> int:
    """Run a ``footfall`` subcommand in a child process (each group loads its own extra)."""
    return subprocess.call([sys.executable, "-m", "footfall.cli", *args])


def _footfall_output(*args: str) -> str | None:
    """stdout of a ``footfall`` subcommand (its stderr shows); None when it failed."""
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", *args], stdout=subprocess.PIPE, text=True,
        check=False,
    )  # fmt: skip
    return done.stdout if done.returncode == 0 else None


def run_demo(
    site_file: str,
    *,
    frames: int = DEMO_FRAMES,
    serve: bool = True,
    port: int = 8080,
    mall_file: str = MALL_SITE,
) -> int:
    """The demo; its exit status. SIGTERM before serving stops it like Ctrl-C does
    (KeyboardInterrupt, which the command line reports in one line)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run_demo(site_file, frames, serve, port, mall_file)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_demo(site_file: str, frames: int, serve: bool, port: int, mall_file: str) -> int:
    # Input first, before anything starts: a bad site or a taken port is one sentence (Error:).
    site = _load(site_file, "--site")
    mall = _load(mall_file, "--mall-site")
    if mall.site.id == site.site.id:
        raise DemoError(
            f"The simulated mall {mall_file} has the site id {site.site.id!r} of {site_file}; "
            "give it another id or pass another --mall-site."
        )
    if serve:
        _check_port(port)
    profile = profile_for("demo")
    _step(f"local stack '{profile.name}' (TimescaleDB + Kafka-protocol broker, loopback only)")
    try:
        for status in stack_up(profile):
            click.echo(
                f"  {status.name:<8} {'up' if status.healthy else 'DOWN':<5} {status.address}"
            )
    except StackError as exc:
        click.echo(f"  {exc}", err=True)
        return 1

    _step(f"site configs {site_file} (real footage) and {mall_file} (simulated mall)")
    for s in (site, mall):
        click.echo(
            f"  site '{s.site.id}' ({s.site.name}): {len(s.floors)} floor(s), "
            f"{len(s.cameras)} camera(s), {len(s.zones)} zone(s), {len(s.lines)} counting line(s)"
        )
    sites = ["--site", site_file, "--site", mall_file]

    _step("cloud: database and broker reachable, contract topics in place")
    env_args = [
        "--database-url",
        profile.database_url,
        "--bootstrap-servers",
        profile.bootstrap_servers,
    ]
    if _footfall("cloud", "check", *env_args) != 0:
        return 1

    _step("cloud: the demo data's counting rules agree with the site configs")
    if not adopt_rules(profile.database_url, [(site, site_file), (mall, mall_file)]):
        return 1

    _step("edge: detector weights and one frame of each camera's footage through YOLOv8")
    if _footfall("edge", "check", "--site", site_file, "--frame", str(min(90, frames - 1))) != 0:
        return 1

    _step(f"edge → broker: the first {frames} frames of every camera through the edge node")
    spool = profile.run_dir / "spool"
    since = datetime.now(UTC)
    if _footfall(
        "edge", "run", "--site", site_file, "--node", "demo-node", "--sink", "kafka",
        "--bootstrap-servers", profile.bootstrap_servers, "--spool-dir", str(spool),
        "--fast", "--max-frames", str(frames),
    ) != 0:  # fmt: skip
        return 1

    _step("broker → cloud: ingest into TimescaleDB (stops once the topics are drained)")
    if _footfall("cloud", "ingest", *env_args, *sites, "--idle-exit-s", "10") != 0:
        return 1

    _step("cloud: cross-camera stitching pass (one anonymous visitor id per person)")
    if _footfall(
        "cloud", "stitch", "--database-url", profile.database_url, "--site", site_file, "--once",
    ) != 0:  # fmt: skip
        return 1

    _step(f"what the cloud computed (site '{site.site.id}', all demo runs so far)")
    click.echo(_summary(profile.database_url, site))

    _step(f"this run's counts next to the ground truth (the first {frames} frames of each clip)")
    click.echo(against_truth(site, profile.database_url, since, frames))

    if not serve:
        _step("where to look")
        click.echo(f"  stack status:   footfall stack status   (logs under {profile.log_dir})")
        click.echo(f"  database:       psql {profile.database_url}")
        click.echo(f"  broker:         {profile.bootstrap_servers} (Kafka protocol)")
        click.echo(
            f"  live dashboard: footfall demo (without --no-serve) serves it at "
            f"http://127.0.0.1:{port}/dashboard/ and prints the address to open"
        )
        click.echo("  stop the stack: footfall stack down")
        return 0
    return _serve(profile, site, site_file, mall, mall_file, port)


def adopt_rules(database_url: str, sites: list[tuple[Site, str]]) -> bool:
    """Re-derive the demo database's data of each site whose stored counting rules differ from
    its config's (an earlier demo, before a change of the rules), so a second ``make demo``
    after an upgrade runs instead of being refused by ingest. Only for the demo's own database:
    elsewhere, adopting new rules is the operator's decision (``footfall cloud recompute
    --adopt-rules``). False when a re-derivation failed (its error is shown)."""
    from cloud.analytics.rules import describe, same_derivation, stored_rules
    from cloud.db import connect
    from cloud.migrate import migrate

    with connect(database_url) as conn:
        migrate(conn)
        stored = {s.site.id: stored_rules(conn, s.site.id) for s, _ in sites}
    for s, site_file in sites:
        before = stored[s.site.id]
        if before is None or same_derivation(before, s.counting):
            click.echo(f"  site '{s.site.id}': {s.counting.describe()}")
            continue
        click.echo(
            f"  site '{s.site.id}': the demo data was derived with {describe(before)} (an "
            f"earlier demo); re-deriving it with {site_file}'s {describe(s.counting)}"
        )
        if _footfall(
            "cloud", "recompute", "--database-url", database_url, "--site", site_file,
            "--adopt-rules",
        ) != 0:  # fmt: skip
            return False
    return True


# ---------------------------------------------------------------------- serving


@dataclass
class _Child:
    name: str
    what: str
    process: subprocess.Popen[bytes]
    log: Path


class _Children:
    """The demo's long-running ``footfall`` processes, each in its own session (the terminal's
    Ctrl-C reaches only the demo, which stops them in order) with its output in a log file."""

    def __init__(
        self, log_dir: Path, program: tuple[str, ...] = (sys.executable, "-m", "footfall.cli")
    ) -> None:
        self.log_dir = log_dir
        self.program = program
        self.stop_wait_s = STOP_WAIT_S
        self.running: list[_Child] = []

    def start(self, name: str, what: str, *args: str) -> _Child:
        log = self.log_dir / f"demo-{name}.log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            out.write(f"\n$ footfall {' '.join(args)}  ({datetime.now(UTC):%F %T} UTC)\n".encode())
            out.flush()
            process = subprocess.Popen(
                [*self.program, *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        child = _Child(name, what, process, log)
        self.running.append(child)
        click.echo(f"  {name:<10} pid {process.pid:<8} {what}  (log {_shown(log)})")
        return child

    def exited(self) -> _Child | None:
        return next((c for c in self.running if c.process.poll() is not None), None)

    def stop(self) -> list[str]:
        """SIGTERM to every child (the producer first), then wait; SIGKILL those that stay."""
        for child in self.running:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_wait_s
        notes = []
        for child in self.running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
                notes.append(
                    f"{child.name} did not stop within {self.stop_wait_s:g} s and was killed"
                )
        self.running = []
        return notes


SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stop:
    """SIGINT and SIGTERM ask the serving loop to stop (no KeyboardInterrupt mid-step)."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self._previous = {sig: signal.signal(sig, self._set) for sig in SIGNALS}

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _set(self, number: int, _frame: object) -> None:
        self.signal = "Ctrl-C" if number == signal.SIGINT else signal.Signals(number).name


def _interrupt(_number: int, _frame: object) -> None:
    raise KeyboardInterrupt


class DemoError(UserError):
    """Input the demo cannot run with; ``str()`` is one sentence naming the fix."""


def _load(path: str, option: str) -> Site:
    """The site config at ``path``; a missing or invalid one is one sentence naming the fix."""
    if not Path(path).is_file():
        raise DemoError(f"Site config {path} does not exist; pass an existing file to {option}.")
    try:
        return load_site(path)
    except SiteConfigError as exc:
        raise DemoError(
            f"{path} is not a valid site config ({len(exc.problems)} problem(s)); "
            f"`footfall validate-config {path}` lists them with their fixes."
        ) from None


def _check_port(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise DemoError(
                f"Port {port} is taken ({exc.strerror}), so the demo cannot serve its dashboard "
                f"there; stop what holds it or pick another: footfall demo --port N (make demo "
                "DEMO_ARGS='--port N')."
            ) from None


def _last_lines(path: Path, n: int = 3) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return "\n".join(f"    | {ln}" for ln in lines[-n:])


def cloud_workers(
    db: list[str], broker: list[str], sites: list[str], port: int
) -> list[tuple[str, str, list[str]]]:
    """The cloud processes the live demo keeps running, as compose and systemd do: (name, what
    it does, ``footfall`` arguments)."""
    return [
        # Visits derived every second (default 5 s), so live occupancy, which counts people seen
        # in the last 5 s, keeps up with the simulated visitors.
        ("ingest", "broker → TimescaleDB, both sites",
         ["cloud", "ingest", *db, *broker, *sites, "--analytics-interval-s", "1"]),
        ("stitcher", "one visitor id across cameras, every 5 s", ["cloud", "stitch", *db, *sites]),
        ("alerts", "alert rules → stored alerts → webhooks, every 15 s",
         ["cloud", "alerts", *db, *sites]),
        ("api", f"the API and dashboard on 127.0.0.1:{port}",
         ["cloud", "api", *db, *broker, *sites, "--port", str(port)]),
    ]  # fmt: skip


def _serve(
    profile: StackProfile, site: Site, site_file: str, mall: Site, mall_file: str, port: int
) -> int:
    _step("live: the cloud keeps running, fed by a simulated mall on this clock")
    db = ["--database-url", profile.database_url]
    broker = ["--bootstrap-servers", profile.bootstrap_servers]
    keys = {}
    for s in (site, mall):  # a fresh key per site (a key reads one site)
        out = _footfall_output(
            "cloud", "apikey", "create", *db, "--site", s.site.id, "--name", "make demo",
            "--site-config", site_file, "--site-config", mall_file,
        )  # fmt: skip
        if not out:
            return 1
        keys[s.site.id] = out.strip().splitlines()[-1]
    sites = ["--site", site_file, "--site", mall_file]
    stop = _Stop()
    started = datetime.now(UTC)
    children = _Children(profile.log_dir)
    try:
        for name, what, args in cloud_workers(db, broker, sites, port):
            children.start(name, what, *args)
        children.start(
            "simulator",
            f"'{mall.site.id}' ({mall.site.name}), scenario {MALL_SCENARIO}, live",
            "simulate", "--scenario", MALL_SCENARIO, "--site", mall_file, "--live", "--publish",
            "--duration-s", str(MALL_WINDOW_S), *broker,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        failed = _wait_until_ready(base, children, stop)
        if failed is None and stop.signal is None:
            failed = _wait_for_live_data(
                profile.database_url, mall.site.id, started, children, stop
            )
        if failed is None and stop.signal is None:
            click.echo("")
            click.secho("  Open the dashboard (the simulated mall, live):", bold=True)
            click.echo(f"    {base}/dashboard/{mall.site.id}/overview#key={keys[mall.site.id]}")
            click.echo(f"  The real-footage site '{site.site.id}' (the frames above):")
            click.echo(f"    {base}/dashboard/{site.site.id}/overview#key={keys[site.site.id]}")
            click.echo(f"  API docs: {base}/docs (send the key as the X-API-Key header)")
            click.echo(
                "  Ctrl-C stops the demo; the stack keeps its data (footfall stack down stops it)."
            )
            failed = _supervise(children, stop)
    finally:  # an error here too: no child left behind, the signals as they were
        notes = children.stop()
        stop.restore()
    for note in notes:
        click.echo(f"  {note}", err=True)
    if failed is not None:
        click.echo(died(failed), err=True)
        return 1
    click.echo(
        f"\ndemo stopped ({stop.signal}): ingest, stitcher, alerts, API and simulator ended."
    )
    return 0


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it lies under it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def died(child: _Child) -> str:
    """What the demo says when ``child`` exited on its own: which, its exit, its log."""
    return (
        f"demo stopped: the {child.name} exited on its own (exit {child.process.returncode}); "
        f"its log {_shown(child.log)} ends with:\n{_last_lines(child.log)}"
    )


def _wait_until_ready(base: str, children: _Children, stop: _Stop) -> _Child | None:
    """Wait for the API's /healthz; a child that exits meanwhile is returned."""
    deadline = time.monotonic() + 120
    while stop.signal is None:
        failed = children.exited()
        if failed is not None:
            return failed
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return None
        except OSError:
            pass
        if time.monotonic() > deadline:
            click.echo("  the API did not answer /healthz within 120 s; see its log", err=True)
            return next(c for c in children.running if c.name == "api")
        time.sleep(0.5)
    return None


_LIVE_DATA_SQL = """
WITH z AS (
    SELECT coalesce(s.visitor_id, z.camera_id || '/' || z.track_id) AS visitor, z.zone_id
      FROM zone_visit z
      LEFT JOIN tracklet_visitor s
        ON s.site_id = z.site_id AND s.camera_id = z.camera_id AND s.track_id = z.track_id
       AND s.mode = 'combined'
     WHERE z.site_id = '{site}' AND z.enter_at >= '{since}'
)
SELECT 'occupancy' WHERE NOT EXISTS
       (SELECT FROM occupancy_minute WHERE site_id = '{site}' AND minute >= '{since}')
UNION ALL
SELECT 'heatmap' WHERE NOT EXISTS
       (SELECT FROM heatmap_minute WHERE site_id = '{site}' AND minute >= '{since}')
UNION ALL
SELECT 'camera heartbeats' WHERE NOT EXISTS
       (SELECT FROM heartbeat WHERE site_id = '{site}' AND sent_at >= '{since}')
UNION ALL
SELECT 'zone visits' WHERE NOT EXISTS (SELECT FROM z)
UNION ALL
SELECT 'flows' WHERE NOT EXISTS
       (SELECT FROM z GROUP BY visitor HAVING count(DISTINCT zone_id) > 1)
"""


def _wait_for_live_data(
    database_url: str, site_id: str, since: datetime, children: _Children, stop: _Stop
) -> _Child | None:
    """Wait (at most 3 minutes) until the live site has data for every dashboard page: a minute
    of occupancy, heatmap samples, camera heartbeats, zone visits and a visitor's move between
    zones."""
    click.echo("  waiting for the first live minute (occupancy, heatmap, cameras, flows) …")
    sql = _LIVE_DATA_SQL.format(site=site_id, since=(since - timedelta(minutes=1)).isoformat())
    deadline = time.monotonic() + 180
    missing: list[str] = []
    while stop.signal is None:
        failed = children.exited()
        if failed is not None:
            return failed
        rows, error = _psql(database_url, sql)
        missing = [row[0] for row in rows] if error is None else [error]
        if not missing:
            return None
        if time.monotonic() > deadline:
            click.echo(f"  still no live {', '.join(missing)} after 3 minutes; see the logs")
            return None
        time.sleep(2)
    return None


def _supervise(children: _Children, stop: _Stop) -> _Child | None:
    """Until a stop signal (None) or a child's exit (that child). The simulator ending its
    window is not a failure: the rest keeps serving what it stored."""
    while stop.signal is None:
        failed = children.exited()
        if failed is not None:
            if failed.name == "simulator" and failed.process.returncode == 0:
                click.echo("  the simulated mall's window ended; the dashboard keeps its data")
                children.running.remove(failed)
                continue
            return failed
        time.sleep(0.5)
    return None


# ---------------------------------------------------------------------- figures


_SUMMARY_SQL = """
SELECT 'line  ' || rpad(line_id, 24) || ' in ' || sum(ins) || ', out ' || sum(outs)
  FROM footfall_minute WHERE site_id = '{site}' GROUP BY line_id
UNION ALL
SELECT 'zone  ' || rpad(zone_id, 24) || ' ' || count(*) || ' visits, mean dwell '
       || round(avg(dwell_s)::numeric, 1) || ' s'
  FROM zone_visit WHERE site_id = '{site}' GROUP BY zone_id
UNION ALL
SELECT 'frames ' || count(*) || ' from ' || count(DISTINCT camera_id) || ' cameras'
  FROM frame WHERE site_id = '{site}'
"""

_CROSSINGS_SQL = """
SELECT line_id, camera_id, count(*) FILTER (WHERE direction > 0),
       count(*) FILTER (WHERE direction < 0)
  FROM line_crossing WHERE site_id = '{site}' AND at >= '{since}'
 GROUP BY line_id, camera_id
"""


def _psql(database_url: str, sql: str) -> tuple[list[list[str]], str | None]:
    """Rows of ``sql`` (fields split on ``|``), or the error."""
    result = subprocess.run(
        ["psql", "-X", "-q", "-t", "-A", database_url, "-c", sql],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return [], result.stderr.strip()
    return [line.split("|") for line in result.stdout.strip().splitlines() if line], None


def _summary(database_url: str, site: Site) -> str:
    # Site ids are slugs (the site model checks), so they can stand in the SQL text.
    rows, error = _psql(database_url, _SUMMARY_SQL.format(site=site.site.id))
    if error is not None:
        return f"  (could not read the results: {error})"
    lines = ["|".join(row) for row in rows] + [visitors_line(database_url, site)]
    return "\n".join(f"  {line}" for line in lines)


def visitors_line(database_url: str, site: Site) -> str:
    """The site's unique visitors over all its data, counted as the API's visitors/summary
    counts them (:func:`cloud.api.queries.visitor_summary`): stitched ids as they stand now
    (a visitor merged into another is that other, ``visitor_alias``), the site's
    ``min_visitor_s`` and staff setting."""
    import psycopg

    from cloud.api.params import EARLIEST, LATEST, TimeRange
    from cloud.api.queries import visitor_summary

    tz = ZoneInfo(site.site.timezone)
    everything = TimeRange(EARLIEST, LATEST, timedelta(days=1), tz)
    staff = not site.reporting.staff.exclude_by_default
    min_s = site.counting.min_visitor_s
    try:
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            s = visitor_summary(conn, site.site.id, everything, min_s, staff)
    except psycopg.Error as exc:
        return f"visitors (could not read them: {str(exc).strip()})"
    tracks = s["stitched_tracks"] + s["unstitched_tracks"]
    return (
        f"visitors {s['unique_visitors']} (stitched across cameras, as the API counts them; "
        f"{s['held_back_visitors']} more seen under {min_s:g} s in all) from {tracks} local "
        f"tracks, {s['unstitched_tracks']} not stitched yet"
    )


def truth_counts(
    site: Site, frames: int, manifest_file: Path = GT_MANIFEST
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per camera of ``site`` whose clip has ground truth: per line, the true (in, out) over the
    clip's first ``frames`` frames, by the site's counting rules on the ground-truth tracks'
    feet through the camera's homography (as :mod:`footfall.evaluation.end_to_end` does)."""
    from edge.evaluate import load_mot
    from footfall.evaluation.counting import compare, trajectories
    from footfall.evaluation.manifest import load_manifest
    from footfall.evaluation.runner import floor_points

    manifest = load_manifest(manifest_file)
    cameras = {c.id: c for c in site.cameras}
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for seq in manifest.sequences:
        if seq.site is None or seq.camera not in cameras or seq.gt is None:
            continue
        if load_site(manifest.path(seq.site)).site.id != site.site.id:
            continue
        camera = cameras[seq.camera]
        gt = load_mot(manifest.path(seq.gt), ground_truth=True)
        gt = gt[gt[:, 0] <= frames]  # GT frame 1 is the edge's frame 0
        tracks = trajectories(
            gt, manifest.sequence_fps(seq), floor_points(camera, gt), camera.floor
        )
        lines = [ln for ln in site.lines if ln.floor == camera.floor]
        result = compare(tracks, [], lines, [], site.counting, "floor")
        out[camera.id] = {c.line_id: (c.true_in, c.true_out) for c in result.lines}
    return out


def against_truth(site: Site, database_url: str, since: datetime, frames: int) -> str:
    """This run's crossings per line and camera, next to the ground truth where there is one."""
    rows, error = _psql(
        database_url, _CROSSINGS_SQL.format(site=site.site.id, since=since.isoformat())
    )
    if error is not None:
        return f"  (could not read the crossings: {error})"
    counted: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for line_id, camera_id, ins, outs in rows:
        counted[camera_id][line_id] = (int(ins), int(outs))
    try:
        truth = truth_counts(site, frames)
    except (UserError, OSError) as exc:
        truth = {}
        click.echo(f"  (no ground truth: {exc})")
    table = [f"  {'line':<24} {'camera':<16} {'counted in/out':>14}   ground truth in/out"]
    for camera in site.cameras:
        mine, true = counted.get(camera.id, {}), truth.get(camera.id)
        shown = sorted(
            ln for ln in set(mine) | set(true or {})
            if mine.get(ln, (0, 0)) != (0, 0) or (true or {}).get(ln, (0, 0)) != (0, 0)
        )  # fmt: skip
        if not shown:
            note = "no ground truth for this clip" if true is None else "none either"
            table.append(f"  {'(no line crossed)':<24} {camera.id:<16} {'0 / 0':>14}   {note}")
        for line_id in shown:
            n_in, n_out = mine.get(line_id, (0, 0))
            if true is None:
                gt = "no ground truth for this clip"
            else:
                t_in, t_out = true.get(line_id, (0, 0))
                gt = f"{t_in} / {t_out}"
            table.append(f"  {line_id:<24} {camera.id:<16} {f'{n_in} / {n_out}':>14}   {gt}")
    return "\n".join(table)
