"""One settings model per concern, FOOTFALL_* environment variables, options only override; one
default address for every process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cloud import settings
from cloud.cli import cloud
from cloud.settings import IngestSettings, RetentionSettings, StitchSettings, overriding
from footfall.addresses import DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_DATABASE_URL, Addresses
from footfall.stack import profile_for


def test_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IngestSettings().batch_messages == 2000
    monkeypatch.setenv("FOOTFALL_INGEST_BATCH_MESSAGES", "123")
    monkeypatch.setenv("FOOTFALL_RETENTION_EMBEDDINGS_HOURS", "6")
    monkeypatch.setenv("FOOTFALL_STITCH_MODE", "spacetime")
    assert IngestSettings().batch_messages == 123
    assert overriding(IngestSettings, batch_messages=None).batch_messages == 123
    assert overriding(IngestSettings, batch_messages=7).batch_messages == 7
    assert RetentionSettings().embeddings_hours == 6.0
    assert StitchSettings().mode == "spacetime"
    monkeypatch.setenv("FOOTFALL_STITCH_MODE", "guess")
    with pytest.raises(ValueError, match="unknown stitching mode"):
        StitchSettings()


def test_one_default_address_for_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("FOOTFALL_BOOTSTRAP_SERVERS", raising=False)
    demo = profile_for("demo")
    assert (demo.database_url, demo.bootstrap_servers) == (
        DEFAULT_DATABASE_URL,
        DEFAULT_BOOTSTRAP_SERVERS,
    )
    assert settings.database_url() == DEFAULT_DATABASE_URL
    assert settings.bootstrap_servers() == DEFAULT_BOOTSTRAP_SERVERS
    monkeypatch.setenv("FOOTFALL_DATABASE_URL", "postgresql://db/x")
    assert settings.database_url() == "postgresql://db/x"
    assert settings.database_url("postgresql://flag/y") == "postgresql://flag/y"
    assert Addresses.resolve(bootstrap_servers="b:1").bootstrap_servers == "b:1"


def test_ingest_help_names_defaults_and_environment_and_no_rule_flags() -> None:
    text = CliRunner().invoke(cloud, ["ingest", "--help"], terminal_width=200).output
    assert "[default: 2000; env FOOTFALL_INGEST_BATCH_MESSAGES]" in text
    assert "env FOOTFALL_RETENTION_OBSERVATIONS_DAYS" in text
    for gone in ("--heatmap-cell-m", "--line-hysteresis-m", "--min-visit-s", "--visit-gap-s"):
        assert gone not in text
        assert gone not in CliRunner().invoke(cloud, ["api", "--help"]).output


def test_a_bad_environment_value_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_INGEST_BATCH_MESSAGES", "lots")
    result = CliRunner().invoke(cloud, ["ingest", "--site", "configs/sites/demo.yaml"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "Error: FOOTFALL_INGEST_BATCH_MESSAGES='lots': Input should be a valid integer"
    ), result.output
    assert "fix the environment variable, or give the option" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_live_occupancy_outlasts_the_gap_between_derivations() -> None:
    # Live occupancy counts visits whose last point is within occupancy_stale_s of now; ingest
    # extends them only every analytics_interval_s, after a batch of up to batch_seconds. With
    # a window shorter than that gap (it was 5 s against 5 + 1 s) the zones read 0 between
    # derivations on a busy site.
    ingest = IngestSettings()
    stale_s = settings.AnalyticsSettings().occupancy_stale_s
    assert stale_s > ingest.analytics_interval_s + ingest.batch_seconds
