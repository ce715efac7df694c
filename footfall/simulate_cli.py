"""``footfall simulate``: run a named scenario; write, publish or evaluate it.

The simulation itself needs only the base install. ``--publish`` and ``--evaluate`` need the
'cloud' extra (the broker client, the ingest and the stitcher) and load it only then.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from cloud.settings import StitchSettings  # stdlib only: no cloud extra needed
from footfall.errors import Command
from footfall.extras import missing_extra_message, missing_modules
from footfall.simulate import SCENARIOS, Simulation, scenario, with_overrides
from footfall.simulate.output import MessageFile, write_scenario
from footfall.site import load_site

CHUNK_S = 10.0
LIVE_CHUNK_S = 1.0
"""With --live, messages go out each second, once the last of them is due."""
MODE_NAMES = ("appearance", "spacetime", "combined")


def _need_cloud(option: str) -> None:
    missing = missing_modules("cloud")
    if missing:
        raise click.ClickException(
            missing_extra_message("cloud", missing).replace(
                "`footfall cloud`", f"`footfall simulate {option}`"
            )
        )


def _speed(value: str) -> float:
    if value == "max":
        return float("inf")
    try:
        speed = float(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a number; use e.g. 1 (real time), 10, or max"
        ) from None
    if speed <= 0:
        raise click.BadParameter("must be above 0 (1 is real time), or max")
    return speed


def _options_need(*rules: tuple[str, str, bool, str]) -> None:
    """A usage error for an option given without the option it works with (never ignore it)."""
    ctx = click.get_current_context()
    for name, option, other_given, other in rules:
        source = ctx.get_parameter_source(name)
        if source is click.core.ParameterSource.COMMANDLINE and not other_given:
            raise click.UsageError(
                f"{option} works only with {other}; add that or leave {option} out"
            )


@contextmanager
def _stack(database_url: str | None, bootstrap_servers: str | None) -> Iterator[tuple[str, str]]:
    """The given addresses, or the local test stack (started here if it is not running)."""
    if database_url and bootstrap_servers:
        yield database_url, bootstrap_servers
        return
    from footfall.stack import profile_for, stack_down, stack_status, stack_up

    profile = profile_for("test")
    started = not all(s.healthy for s in stack_status(profile))
    if started:
        click.echo(f"starting the local test stack in {profile.run_dir} …", err=True)
        stack_up(profile, timeout_s=120)
    try:
        yield (database_url or profile.database_url, bootstrap_servers or profile.bootstrap_servers)
    finally:
        if started:
            stack_down(profile)


def _table(result: dict[str, Any]) -> str:
    cols = [
        ("mtmc_idf1", "IDF1"),
        ("visitors", "visitors"),
        ("unique_visitors_error", "uniq.err"),
        ("entrance_count_error", "entr.err"),
        ("dwell_error", "dwell.err"),
        ("line_abs_error", "line.err"),
        ("tracklets_per_s", "tracklets/s"),
    ]
    lines = [f"{'mode':<12}" + "".join(f"{h:>13}" for _, h in cols)]
    for mode, m in result["modes"].items():
        cells = []
        for key, _ in cols:
            v = m.get(key, "")
            cells.append(f"{v:>13.3f}" if isinstance(v, float) else f"{v!s:>13}")
        lines.append(f"{mode:<12}" + "".join(cells))
    return "\n".join(lines)


@click.command(cls=Command)
@click.option(
    "--scenario",
    "name",
    required=True,
    type=click.Choice(list(SCENARIOS)),
    help="Named scenario: " + "; ".join(f"{n}: {s.description}" for n, s in SCENARIOS.items()),
)
@click.option(
    "--site",
    "site_file",
    type=click.Path(dir_okay=False),
    help="Site config (default: the scenario's site, configs/sites/two_floor_mall.yaml for most).",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Random seed (same seed, same run)."
)
@click.option("--duration-s", type=click.FloatRange(1.0), help="Simulate this long instead.")
@click.option("--visitors-per-day", type=click.IntRange(0), help="Crowd size instead.")
@click.option(
    "--start-hour", type=click.FloatRange(0.0, 24.0), help="Site-local hour the window starts."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write messages.jsonl, the ground truth (people, tracklets, crossings, visits CSV) and "
    "scenario.json here.",
)
@click.option(
    "--publish", is_flag=True, help="Publish the messages to the broker (load generator)."
)
@click.option(
    "--speed",
    default="max",
    show_default=True,
    help="With --publish: simulated seconds per wall-clock second (1 = real time), or max.",
)
@click.option(
    "--live",
    is_flag=True,
    help="With --publish: stamp the window from now on (this clock; the crowd still follows "
    "the scenario's hours) and publish each second's messages once their time has come, until "
    "the window ends or SIGTERM/Ctrl-C (feeds a live dashboard).",
)
@click.option("--topic-namespace", default="", help="Prefix of the topic names when publishing.")
@click.option(
    "--evaluate",
    is_flag=True,
    help="Run the scenario through the real broker, ingest and stitcher (scratch database) and "
    "score each stitching mode against the ground truth.",
)
@click.option(
    "--in-process",
    is_flag=True,
    help="With --evaluate: skip broker and database; derive and stitch in this process.",
)
@click.option("--database-url", help="PostgreSQL server for --evaluate (default: the test stack).")
@click.option("--bootstrap-servers", help="Broker (default: the test stack for --evaluate).")
@click.option(
    "--delay-s",
    default=StitchSettings.model_fields["delay_s"].default,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Stitcher decision delay.",
)
@click.option(
    "--ttl-s",
    default=StitchSettings.model_fields["ttl_s"].default,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Stitcher gallery time-to-live.",
)
@click.option("--keep-database", is_flag=True, help="Keep the scratch database of --evaluate.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line instead of a table.")
def simulate(
    name: str,
    site_file: str | None,
    seed: int,
    duration_s: float | None,
    visitors_per_day: int | None,
    start_hour: float | None,
    out: Path | None,
    publish: bool,
    speed: str,
    live: bool,
    topic_namespace: str,
    evaluate: bool,
    in_process: bool,
    database_url: str | None,
    bootstrap_servers: str | None,
    delay_s: float,
    ttl_s: float,
    keep_database: bool,
    as_json: bool,
) -> None:
    """Simulate a mall day (part of one) with ground truth; write, publish or evaluate it."""
    rate = _speed(speed)
    through_stack = evaluate and not in_process
    _options_need(
        ("in_process", "--in-process", evaluate, "--evaluate"),
        ("speed", "--speed", publish, "--publish"),
        ("live", "--live", publish, "--publish"),
        ("keep_database", "--keep-database", through_stack, "--evaluate (without --in-process)"),
        ("database_url", "--database-url", through_stack, "--evaluate (without --in-process)"),
        (
            "bootstrap_servers",
            "--bootstrap-servers",
            publish or through_stack,
            "--publish or --evaluate (without --in-process)",
        ),
        ("delay_s", "--delay-s", evaluate, "--evaluate"),
        ("ttl_s", "--ttl-s", evaluate, "--evaluate"),
    )
    if live and click.get_current_context().get_parameter_source("speed") is (
        click.core.ParameterSource.COMMANDLINE
    ):
        raise click.UsageError("--live publishes in real time; leave --speed out")
    if live and evaluate:
        raise click.UsageError("--live and --evaluate do not go together; leave one out")
    if live:
        rate = 1.0
    if publish or (evaluate and not in_process):
        _need_cloud("--evaluate" if evaluate else "--publish")
    base = scenario(name)
    changes: dict[str, object] = {}
    if duration_s is not None:
        changes["duration_s"] = duration_s
    if visitors_per_day is not None:
        changes["visitors_per_day"] = visitors_per_day
    if start_hour is not None:
        changes["start_hour"] = start_hour
    sc = with_overrides(base, **changes) if changes else base
    path = Path(site_file) if site_file else sc.site
    if not path.exists():
        hint = (
            " (make it with: python -m footfall.simulate.sitegen)"
            if "generated" in str(path)
            else ""
        )
        raise click.ClickException(f"site config {path} does not exist{hint}; pass --site FILE.")
    site = load_site(path)
    began = time.perf_counter()
    start = datetime.now(UTC) if live else None
    sim = Simulation(site, sc, seed, with_truth=evaluate or out is not None, start=start)
    keep = evaluate and not publish
    chunks: list[list[Any]] = []
    files = MessageFile(out) if out is not None else None
    publisher = None
    if publish:
        from cloud.transport.kafka import MessagePublisher, ensure_topics

        servers = bootstrap_servers or _default_broker()
        ensure_topics(servers, namespace=topic_namespace)
        publisher = MessagePublisher(servers, topic_namespace)
    chunk_s = LIVE_CHUNK_S if live else CHUNK_S
    total = int(sim.frames_total / max(1, int(chunk_s * sc.fps))) + 2
    wall0 = time.perf_counter()
    if start is not None:  # the window began when ``start`` was taken, not now
        wall0 -= (datetime.now(UTC) - start).total_seconds()
    stopped = _stop_on_signals() if live else None
    with tqdm(
        total=total, desc=f"simulate {name}", unit="chunk", file=sys.stderr, disable=live
    ) as bar:
        for i, chunk in enumerate(sim.chunks(chunk_s)):
            if files is not None:
                files.write(chunk)
            if publisher is not None:
                if live:  # a message leaves once its time has come (the chunk's end)
                    _sleep_until(wall0 + (i + 1) * chunk_s, stopped)
                    if stopped and stopped[0]:
                        break
                publisher.send(chunk)
                ahead = (i + 1) * chunk_s / rate - (time.perf_counter() - wall0)
                if ahead > 0 and not live:
                    time.sleep(ahead)
            if keep:
                chunks.append(chunk)
            bar.update(1)
    if publisher is not None:
        publisher.close()
    if stopped and stopped[0]:
        click.echo(f"stopped by {stopped[0]} after {publisher.sent if publisher else 0} messages")
        return
    simulate_s = time.perf_counter() - began
    if files is not None:
        files.close()
    seen = {p for counts in sim.truth.tracks.values() for p in counts if p >= 0}
    result: dict[str, Any] = {
        "scenario": name,
        "site": site.id,
        "seed": seed,
        "cameras": len(site.cameras),
        "people": len(sim.people),
        "people_seen": len(seen),
        "visitors_per_day": sc.visitors_per_day,
        "simulated_s": sc.duration_s,
        **sim.counts,
        "simulate_s": round(simulate_s, 1),
    }
    if publisher is not None:
        result["published"] = publisher.sent
        result["published_msgs_per_s"] = round(publisher.sent / simulate_s)
        result["published_mb_per_s"] = round(publisher.bytes / simulate_s / 1e6, 2)
        result["realtime_factor"] = round(sc.duration_s / simulate_s, 1)
    if out is not None:
        sim.truth.write(out / "truth")
        write_scenario(out, sc, seed, result)
    if evaluate:
        result.update(
            _evaluate(
                site,
                sim,
                chunks,
                in_process,
                database_url,
                bootstrap_servers,
                delay_s,
                ttl_s,
                keep_database,
            )
        )
    if as_json:
        click.echo(json.dumps(result, separators=(",", ":")))
        return
    for key, value in result.items():
        if key != "modes":
            click.echo(f"{key:>22}: {value}")
    if "modes" in result:
        click.echo(_table(result))


def _stop_on_signals() -> list[str]:
    """SIGTERM and SIGINT end a live run cleanly; the list gets the signal's name."""
    stopped: list[str] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: stopped.append(signal.Signals(number).name))
    return stopped


def _sleep_until(deadline: float, stopped: list[str] | None) -> None:
    """Sleep until ``time.perf_counter()`` reaches ``deadline`` (sooner once ``stopped``)."""
    while not stopped:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))


def _default_broker() -> str:
    from cloud import settings

    return settings.bootstrap_servers(None)


def _evaluate(
    site: Any,
    sim: Simulation,
    chunks: list[list[Any]],
    in_process: bool,
    database_url: str | None,
    bootstrap_servers: str | None,
    delay_s: float,
    ttl_s: float,
    keep_database: bool,
) -> dict[str, Any]:

    settings = StitchSettings(delay_s=delay_s, ttl_s=ttl_s)
    if in_process:
        from cloud.stitch.tracklets import from_messages
        from footfall.evaluation.stitching import evaluate, local_analytics

        messages = [m for chunk in chunks for m in chunk]
        crossings, visits = local_analytics(site, messages)
        t = from_messages(site, messages)
        return {
            "tracklets": len(t),
            "modes": evaluate(site, sim.truth, t, crossings, visits, MODE_NAMES, settings),
            "reporting": _reporting(site, sim, settings)(t, None, crossings, visits),
        }
    from footfall.evaluation.stitching_stack import evaluate_through_stack

    with _stack(database_url, bootstrap_servers) as (url, servers):
        return evaluate_through_stack(
            site,
            sim.truth,
            chunks,
            url,
            servers,
            MODE_NAMES,
            settings,
            progress=lambda line: click.echo(line, err=True),
            keep_database=keep_database,
            reporting=_reporting(site, sim, settings),
        )


def _reporting(site: Any, sim: Simulation, settings: StitchSettings) -> Any:
    """Scores staff, groups, queues, footfall without staff (and, over a window from opening
    to closing time, the occupancy balance) from tracklets, ids, crossings and visits; ids
    None: stitched here in the served mode (``combined``)."""

    def score(t: Any, ids: Any, crossings: Any, visits: Any) -> dict[str, Any]:
        from cloud.stitch.stitcher import stitch
        from cloud.stitch.topology import CameraTopology
        from footfall.evaluation.reporting import evaluate_occupancy, evaluate_reporting

        if ids is None:
            mode = StitchSettings(**{**settings.__dict__, "mode": "combined", "threshold": None})
            ids = stitch(t, CameraTopology.of(site), mode, seed=0)
        out = evaluate_reporting(site, sim.truth, t, ids, crossings, visits)
        hours = site.reporting.occupancy
        start = sim.scenario.start_hour
        if start <= hours.opens_at.hour + hours.opens_at.minute / 60:
            out["occupancy"] = evaluate_occupancy(
                site, sim.people, sim.t0, sim.scenario.duration_s, crossings, visits
            )
        return out

    return score
