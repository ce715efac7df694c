"""``footfall cloud apikey create`` refuses a site that no configured site file defines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cloud.cli import cloud
from footfall.site import load_site

REPO = Path(__file__).resolve().parents[2]
NO_DATABASE = "postgresql://postgres@127.0.0.1:1/none"
"""Nothing listens here: reaching the database would be another error."""


def test_a_key_for_an_unconfigured_site_is_refused_before_touching_the_database() -> None:
    result = CliRunner().invoke(
        cloud,
        [
            "apikey",
            "create",
            "--site",
            "nowhere",
            "--site-config",
            str(REPO / "configs" / "sites" / "demo.yaml"),
            # nothing listens here: reaching the database would be another error
            "--database-url",
            "postgresql://postgres@127.0.0.1:1/none",
        ],
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "site 'nowhere' is not a configured site" in lines[0]
    assert "demo" in lines[0] and "--site-config FILE" in lines[0]
    assert "Cannot connect" not in result.output


def test_the_default_site_configs_are_the_sites_folder_wherever_it_runs_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It used to be configs/sites/demo.yaml relative to the current directory: "file not found"
    # from anywhere but the checkout.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_SITES_DIR", raising=False)
    result = CliRunner().invoke(
        cloud, ["apikey", "create", "--site", "nowhere", "--database-url", NO_DATABASE]
    )
    folder = REPO / "configs" / "sites"
    ids = ", ".join(sorted(load_site(p).id for p in folder.glob("*.yaml")))
    assert "demo" in ids and "riverside-mall" in ids
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: site 'nowhere' is not a configured site (configured in the sites folder "
        f"{folder}: {ids}); pass its config with "
        "--site-config FILE (or its folder with --sites-dir), or use one of those ids"
    )


def test_another_sites_folder_from_the_option_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sites"
    folder.mkdir()
    shutil.copy(REPO / "configs" / "sites" / "demo.yaml", folder / "demo.yaml")
    args = ["apikey", "create", "--site", "riverside-mall", "--database-url", NO_DATABASE]
    by_option = CliRunner().invoke(cloud, [*args, "--sites-dir", str(folder)])
    monkeypatch.setenv("FOOTFALL_SITES_DIR", str(folder))
    by_env = CliRunner().invoke(cloud, args)
    for result in (by_option, by_env):
        assert result.exit_code == 1
        assert f"the sites folder {folder}: demo)" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = CliRunner().invoke(cloud, [*args, "--sites-dir", str(empty)])
    assert none.exit_code == 1
    assert none.output.startswith(f"Error: sites folder {empty} holds no site files (*.yaml); ")
    missing = CliRunner().invoke(cloud, [*args, "--sites-dir", str(tmp_path / "nope")])
    assert missing.output.strip() == (
        f"Error: sites folder {tmp_path / 'nope'} does not exist; create it with your site "
        "files, or point --sites-dir (or FOOTFALL_SITES_DIR) at the folder that holds them"
    )
