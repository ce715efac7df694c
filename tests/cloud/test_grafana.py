"""grafana_queries (tests/support) expands Grafana's PostgreSQL macros and variables as Grafana
does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from grafana_queries import Context, dashboard_queries, interval_text, parse_interval

CTX = Context(
    datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    datetime(2026, 11, 20, 10, 30, 15, tzinfo=UTC),
    timedelta(minutes=5),
    {"site": "demo", "zone": ["a", "b'c"]},
)


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        (
            "$__timeFilter(minute)",
            "minute BETWEEN '2026-11-20T09:00:00.000Z' AND '2026-11-20T10:30:15.000Z'",
        ),
        ("$__timeFrom() $__timeTo()", "'2026-11-20T09:00:00.000Z' '2026-11-20T10:30:15.000Z'"),
        ("$__time(at)", 'at AS "time"'),
        ("$__timeEpoch(at)", 'extract(epoch from at) AS "time"'),
        ("$__timeGroup(minute, '1h')", "time_bucket('3600.000s',minute)"),
        ("$__timeGroupAlias(minute, $__interval)", "time_bucket('300.000s',minute) AS \"time\""),
        ("$__interval $__interval_ms", "5m 300000"),
        ("$__unixEpochFilter(t)", "t >= 1795165200 AND t <= 1795170615"),
        ("site_id = '$site' AND '${site}' = '[[site]]'", "site_id = 'demo' AND 'demo' = 'demo'"),
        ("${site:sqlstring}", "'demo'"),
        ("zone_id IN ($zone)", "zone_id IN ('a','b''c')"),
    ],
)
def test_expands_like_grafana(sql: str, expanded: str) -> None:
    assert CTX.expand(sql) == expanded


def test_unknown_macros_and_variables_are_errors() -> None:
    with pytest.raises(ValueError, match=r"undefined macro: \$__timeShift"):
        CTX.expand("$__timeShift(x)")
    with pytest.raises(ValueError, match=r"\$floor has no value"):
        CTX.expand("floor_id = '$floor'")


def test_intervals() -> None:
    assert parse_interval("'15m'") == timedelta(minutes=15)
    assert [interval_text(timedelta(seconds=s)) for s in (30, 300, 3600, 86400, 0.5)] == [
        "30s",
        "5m",
        "1h",
        "1d",
        "500ms",
    ]
    with pytest.raises(ValueError, match="not a Grafana duration"):
        parse_interval("soon")


def test_queries_of_a_dashboard_include_variables_and_nested_panels(tmp_path: Path) -> None:
    board = {
        "title": "t",
        "templating": {"list": [{"name": "site", "type": "query", "query": "SELECT 1"}]},
        "panels": [
            {
                "title": "row",
                "type": "row",
                "panels": [{"title": "inner", "targets": [{"refId": "A", "rawSql": "SELECT 2"}]}],
            },
            {"title": "top", "targets": [{"refId": "A", "rawSql": "SELECT 3"}]},
        ],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(board))
    assert [q.sql for q in dashboard_queries(path)] == ["SELECT 1", "SELECT 2", "SELECT 3"]
