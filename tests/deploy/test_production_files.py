"""The production files under deploy/production are valid and start commands that exist (issue 21).

No container engine runs here, so the images are not built and the compose file is not run.
What can be checked is checked: the compose file against the Compose Specification's JSON schema
(check-jsonschema's vendored copy), the Dockerfiles by hadolint, every file a Dockerfile copies
exists and is not left out of the build context, every service's command (compose, Dockerfile
CMD, systemd ExecStart) is parsed by footfall's own command line with the paths it would see
mapped back to this checkout (options, types, existing files, the node-id rule), and the systemd
units pass ``systemd-analyze verify``.
"""

from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
import pytest
import yaml

from footfall.cli import main as footfall_cli

REPO = Path(__file__).resolve().parents[2]
PROD = REPO / "deploy" / "production"
COMPOSE = PROD / "compose.yaml"
DOCKERFILES = sorted((PROD / "docker").glob("*.Dockerfile"))
UNITS = sorted((PROD / "systemd").glob("*.service"))
BIN = Path(sys.executable).parent
FOOTFALL_IMAGES = ("footfall-cloud", "footfall-edge")
VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _env_example(name: str) -> dict[str, str]:
    """KEY=VALUE lines of an env/*.example file (comments left out)."""
    out = {}
    for line in (PROD / "env" / name).read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _interpolate(text: str, env: dict[str, str]) -> str:
    """``${VAR}`` / ``${VAR:-default}`` as compose and systemd fill them in."""
    return VAR.sub(lambda m: env.get(m.group(1), m.group(2) or ""), text)


def parse_footfall(args: Sequence[str], mounts: dict[str, Path]) -> click.Context:
    """Parse ``footfall ARGS`` as the command line would (not run it): container paths are
    mapped to this checkout through ``mounts``; raises click's error on any bad option."""
    mapped = []
    for arg in args:
        for inside, outside in mounts.items():
            if arg == inside or arg.startswith(inside + "/"):
                arg = str(outside) + arg[len(inside) :]
                if not Path(arg).exists():
                    raise click.BadParameter(f"{arg} (mounted from the checkout) does not exist")
        mapped.append(arg)
    cmd: click.Command = footfall_cli
    ctx = cmd.make_context("footfall", [], resilient_parsing=True)
    rest = list(mapped)
    while isinstance(cmd, click.Group):
        assert rest and not rest[0].startswith("-"), f"footfall {' '.join(args)}: no subcommand"
        name = rest.pop(0)
        sub = cmd.get_command(ctx, name)
        assert sub is not None, f"footfall has no command {name!r} (in {' '.join(args)})"
        cmd = sub
        ctx = cmd.make_context(name, [], parent=ctx, resilient_parsing=True)
    return cmd.make_context(cmd.name or "", rest, parent=ctx.parent)


def _compose() -> dict[str, object]:
    return yaml.safe_load(COMPOSE.read_text())


def _compose_footfall_services() -> Iterator[tuple[str, dict[str, object]]]:
    for name, svc in _compose()["services"].items():  # type: ignore[union-attr]
        if str(svc.get("image", "")).split(":")[0] in FOOTFALL_IMAGES:
            yield name, svc


def _mounts(svc: dict[str, object], env: dict[str, str]) -> dict[str, Path]:
    mounts = {}
    for volume in svc.get("volumes", []):  # type: ignore[union-attr]
        host, inside, *_ = _interpolate(str(volume), env).split(":")
        if host.startswith("."):
            mounts[inside] = (PROD / host).resolve()
    return mounts


def test_the_compose_file_follows_the_compose_specification() -> None:
    run = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_compose_file_runs_the_stack_the_guide_describes() -> None:
    services = _compose()["services"]
    assert set(services) >= {"kafka", "timescaledb", "migrate", "ingest", "stitch", "alerts", "api"}  # type: ignore[arg-type]
    kafka = services["kafka"]["environment"]  # type: ignore[index]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]  # KRaft: no ZooKeeper
    for name in ("ingest", "stitch", "alerts", "api"):
        needs = services[name]["depends_on"]  # type: ignore[index]
        assert needs["migrate"]["condition"] == "service_completed_successfully"


def test_every_compose_service_command_is_a_footfall_command_line() -> None:
    env = _env_example("compose.env.example")
    seen = []
    for name, svc in _compose_footfall_services():
        args = [_interpolate(a, env) for a in svc["command"]]  # type: ignore[union-attr]
        ctx = parse_footfall(args, _mounts(svc, env))
        seen.append((name, ctx.command.name))
    assert sorted(seen) == [
        ("alerts", "alerts"),
        ("api", "api"),
        ("edge", "run"),
        ("ingest", "ingest"),
        ("migrate", "migrate"),
        ("stitch", "stitch"),
    ]


def test_a_bad_option_in_a_service_command_would_be_caught() -> None:
    """The parse above is strict: the check can fail."""
    with pytest.raises(click.UsageError):
        parse_footfall(["cloud", "ingest", "--sites-folder", "x"], {})
    with pytest.raises(click.BadParameter):
        parse_footfall(["cloud", "api", "--port", "http"], {})
    with pytest.raises(click.BadParameter):  # a site file the mounts do not provide
        parse_footfall(
            ["cloud", "stitch", "--site", "/etc/footfall/sites/none.yaml"],
            {"/etc/footfall/sites": REPO / "configs" / "sites"},
        )


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    config = PROD / "docker" / ".hadolint.yaml"
    run = subprocess.run(
        [str(BIN / "hadolint"), "--config", str(config), str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_dockerfile_copies_what_the_checkout_has_and_starts_footfall(dockerfile: Path) -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    extras = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    instructions = _dockerfile_instructions(dockerfile)
    for word, rest in instructions:
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _dest = rest.split()
            for source in sources:
                assert (REPO / source).exists(), (
                    f"{dockerfile.name} copies {source}, not in the checkout"
                )
                assert source not in ignored, f"{source} is left out by .dockerignore"
        if word == "RUN":
            for extra in re.findall(r"'\.\[(\w+)\]'", rest):
                assert extra in extras, f"{dockerfile.name} installs unknown extra {extra!r}"
    entrypoint = [rest for word, rest in instructions if word == "ENTRYPOINT"]
    cmd = [rest for word, rest in instructions if word == "CMD"]
    assert entrypoint == ['["footfall"]']
    parse_footfall(yaml.safe_load(cmd[-1]), {})


def _unit_exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_systemd_unit_runs_a_footfall_command_line(unit: Path) -> None:
    env = {**_env_example("edge.env.example"), **_env_example("cloud.env.example")}
    argv = [_interpolate(a, env) for a in _unit_exec_start(unit)]
    assert argv[0] == "/opt/footfall/.venv/bin/footfall"
    parse_footfall(argv[1:], {"/etc/footfall/sites": REPO / "configs" / "sites"})


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_systemd_unit_passes_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    """The unit as installed, with the footfall executable at a stand-in path that exists here
    and the service user replaced by root (this machine has no footfall user)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: make setup installs Debian's systemd package"
    stand_in = tmp_path / "footfall"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    text = unit.read_text().replace("/opt/footfall/.venv/bin/footfall", str(stand_in))
    text = re.sub(r"^(User|Group)=.*$", r"\1=root", text, flags=re.M)
    copy = tmp_path / unit.name
    copy.write_text(text)
    run = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    problems = [line for line in (run.stdout + run.stderr).splitlines() if unit.name in line]
    assert run.returncode == 0 and not problems, run.stdout + run.stderr
