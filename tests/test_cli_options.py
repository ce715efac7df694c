"""Command-line options do what the README and their help say (issue 19): recompute takes ISO
8601 times, a site the simulator cannot walk is one sentence, an option that needs another is a
usage error (never silently ignored), and every option of the cloud, simulate, stack and
validate-config commands has help text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from footfall.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Every command group (the edge has its own walk too: tests/edge/test_cli_usage.py).
GROUPS_WITH_FULL_HELP = ("cloud", "edge", "simulate", "stack", "validate-config", "demo", "eval")


def _commands(
    cmd: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            yield from _commands(sub, (*path, name))
    else:
        yield path, cmd


def _all_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(main)
    found = []
    for group in GROUPS_WITH_FULL_HELP:
        cmd = main.get_command(ctx, group)
        assert cmd is not None, group
        found.extend(_commands(cmd, (group,)))
    return found


def test_every_option_has_help_text() -> None:
    missing = [
        f"footfall {' '.join(path)} {'/'.join(param.opts)}"
        for path, cmd in _all_commands()
        for param in cmd.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert not missing, "options without help text: " + ", ".join(missing)


@pytest.mark.parametrize("path", [p for p, _ in _all_commands()], ids=" ".join)
def test_every_help_runs(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _recompute_type(name: str) -> click.ParamType:
    cloud = main.get_command(click.Context(main), "cloud")
    assert isinstance(cloud, click.Group)
    recompute = cloud.get_command(click.Context(cloud), "recompute")
    assert recompute is not None
    return next(p.type for p in recompute.params if p.name == name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T00:00", datetime(2026, 12, 1)),
        ("2026-12-01", datetime(2026, 12, 1)),
        ("2026-12-01 08:30:15", datetime(2026, 12, 1, 8, 30, 15)),
        (
            "2026-12-01T00:00:00+01:00",
            datetime(2026, 12, 1, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-12-01T00:00Z", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T00:00:00z", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("name", ["start", "end"])
def test_recompute_takes_iso_times_with_or_without_offset(
    name: str, text: str, expected: datetime
) -> None:
    value = _recompute_type(name).convert(text, None, None)
    assert value == expected
    assert value.tzinfo == expected.tzinfo  # naive stays naive: site-local


def test_recompute_names_a_bad_time_in_one_sentence() -> None:
    result = CliRunner().invoke(
        main, ["cloud", "recompute", "--from", "yesterday", "--to", "2026-12-01T00:00"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--from': 'yesterday' is not an ISO 8601 time" in result.output
    assert "2026-12-01T00:00+01:00" in result.output
    assert "Traceback" not in result.output


def test_simulate_on_a_site_whose_zones_do_not_connect_is_one_sentence() -> None:
    site = ROOT / "configs" / "sites" / "demo.yaml"
    result = CliRunner().invoke(main, ["simulate", "--scenario", "smoke", "--site", str(site)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "zones are not connected, so people cannot walk" in lines[0]
    assert "configs/sites/two_floor_mall.yaml" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--in-process"], "--in-process works only with --evaluate"),
        (["--speed", "10"], "--speed works only with --publish"),
        (["--speed", "max"], "--speed works only with --publish"),
        (["--keep-database"], "--keep-database works only with --evaluate (without --in-process)"),
        (
            ["--evaluate", "--in-process", "--keep-database"],
            "--keep-database works only with --evaluate (without --in-process)",
        ),
    ],
)
def test_simulate_option_without_the_option_it_needs_is_a_usage_error(
    args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["simulate", "--scenario", "smoke", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
