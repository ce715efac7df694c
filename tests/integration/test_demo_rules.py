"""A second ``make demo`` after the counting rules changed re-derives the demo's own data with the
new rules instead of being refused by ingest (the demo database is the demo's to re-derive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.analytics.rules import adopt_rules as record_rules
from cloud.analytics.rules import stored_rules
from cloud.db import connect
from cloud.migrate import migrate
from footfall.demo import adopt_rules
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE_FILE = Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml"


def test_demo_data_derived_with_older_rules_is_rederived_once(
    database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    site = load_site(SITE_FILE)
    older = site.model_copy(
        update={"counting": site.counting.model_copy(update={"line_establish_s": 0.0})}
    )
    assert older.counting != site.counting
    with connect(database_url) as conn:
        migrate(conn)
        record_rules(conn, older)  # what an earlier demo recorded
        conn.commit()

    assert adopt_rules(database_url, [(site, str(SITE_FILE))])
    out = capfd.readouterr().out
    assert "derived with" in out and "re-deriving it" in out
    with connect(database_url) as conn:
        assert stored_rules(conn, site.site.id) == site.counting

    assert adopt_rules(database_url, [(site, str(SITE_FILE))])  # agreed now: nothing to do
    assert "re-deriving" not in capfd.readouterr().out
