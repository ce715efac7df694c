"""The ``footfall`` program: its groups, and the message when an extra is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from footfall import extras
from footfall.cli import main


def test_top_level_lists_every_group() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("edge", "cloud", "stack", "validate-config", "demo"):
        assert name in result.output


@pytest.mark.parametrize("group", ["edge", "cloud"])
def test_missing_extra_names_the_extra_to_install(
    group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(extras.EXTRA_MODULES, group, ("surely_not_installed_module",))
    result = CliRunner().invoke(main, [group, "--help"])
    assert result.exit_code == 1
    assert f"needs the '{group}' extra" in result.output
    assert f"pip install 'footfall[{group}]'" in result.output
    assert "surely_not_installed_module" in result.output


@pytest.mark.parametrize("group", ["edge", "cloud"])
def test_installed_extra_lists_its_commands(group: str) -> None:
    result = CliRunner().invoke(main, [group, "--help"])
    assert result.exit_code == 0, result.output
    assert "check" in result.output


def test_cloud_check_names_the_unreachable_database() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "footfall.cli",
            "cloud",
            "check",
            "--database-url",
            "postgresql://postgres@127.0.0.1:1/none",
            "--bootstrap-servers",
            "127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Cannot connect to the database at postgresql://postgres@127.0.0.1:1/none" in (
        result.stderr
    )
    assert "footfall stack up" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_loaded_groups_own_set_up_runs_before_its_command() -> None:
    # `footfall cloud …` sets up logging in the cloud group's callback; without it the ingest
    # service's progress lines (INFO) were never shown.
    code = (
        "import logging, sys; from footfall.cli import main\n"
        "sys.argv = ['footfall', 'cloud', 'migrate', '--database-url', "
        "'postgresql://nobody@127.0.0.1:1/none']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LEVEL', logging.getLogger().level, len(logging.getLogger().handlers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert f"LEVEL {20} 1" in out, out
