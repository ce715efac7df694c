"""``footfall cloud apikey create`` refuses a site that no configured site file defines."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cloud.cli import cloud

REPO = Path(__file__).resolve().parents[2]


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


def test_the_default_site_config_is_the_demo_site() -> None:
    result = CliRunner().invoke(
        cloud,
        [
            "apikey",
            "create",
            "--site",
            "riverside-mall",
            "--database-url",
            "postgresql://x@127.0.0.1:1/x",
        ],
    )
    assert result.exit_code == 1 and "is not a configured site" in result.output
