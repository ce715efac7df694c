"""Grafana's PostgreSQL macros and template variables, expanded as Grafana expands them.

This lets the dashboards in ``dashboards/grafana/*.json`` be checked without Grafana: every
panel's SQL is expanded for a time range and run against the real schema. What is expanded
(Grafana's PostgreSQL data source with ``timescaledb: true``, as the provisioning file sets):

=============================  ==========================================================
``$__time(c)``                 ``c AS "time"``
``$__timeEpoch(c)``            ``extract(epoch from c) AS "time"``
``$__timeFilter(c)``           ``c BETWEEN '<from>' AND '<to>'`` (UTC, RFC 3339)
``$__timeFrom()``              ``'<from>'``; ``$__timeTo()`` likewise
``$__timeGroup(c, '5m')``      ``time_bucket('300.000s',c)``
``$__timeGroupAlias(c, '5m')`` the same, then ``AS "time"``
``$__unixEpochFilter(c)``      ``c >= <from s> AND c <= <to s>``; ``$__unixEpochFrom()``,
                               ``$__unixEpochTo()``
``$__interval``                the panel's interval, e.g. ``5m``; ``$__interval_ms`` in ms
``$var``, ``${var}``,          the variable's value; a multi-value variable (a list) becomes
``[[var]]``                    ``'a','b'`` as Grafana quotes SQL values; ``${var:sqlstring}``
                               quotes a single value
=============================  ==========================================================

Variables are replaced first, then macros, as in Grafana. An unknown ``$__macro`` is an
error, as it is in Grafana.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Value = str | Sequence[str]

_MACRO = re.compile(r"\$__(\w+)\(([^()]*)\)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_interval(text: str) -> timedelta:
    """Grafana interval text (``'5m'``, ``1h``, ``30s``) → timedelta."""
    match = _DURATION.match(text.strip().strip("'\""))
    if not match:
        raise ValueError(f"interval {text!r} is not a Grafana duration such as 30s, 5m or 1h")
    return timedelta(seconds=float(match[1]) * _UNIT_S[match[2]])


def interval_text(interval: timedelta) -> str:
    """timedelta → Grafana's short form (the largest unit that divides it)."""
    seconds = interval.total_seconds()
    for unit in ("d", "h", "m", "s"):
        if seconds >= _UNIT_S[unit] and seconds % _UNIT_S[unit] == 0:
            return f"{int(seconds // _UNIT_S[unit])}{unit}"
    return f"{int(seconds * 1000)}ms"


def _rfc3339(at: datetime) -> str:
    text = at.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Context:
    """What Grafana knows when it runs a panel: time range, interval and variable values."""

    start: datetime
    end: datetime
    interval: timedelta = timedelta(minutes=5)
    variables: Mapping[str, Value] = field(default_factory=dict)

    def _variable(self, name: str, fmt: str | None, original: str) -> str:
        if name == "__interval":
            return interval_text(self.interval)
        if name == "__interval_ms":
            return str(int(self.interval.total_seconds() * 1000))
        if name.startswith("__"):
            return original  # a macro, expanded later
        if name not in self.variables:
            raise ValueError(
                f"template variable ${name} has no value; known: {sorted(self.variables)}"
            )
        value = self.variables[name]
        if isinstance(value, str):
            return _quote(value) if fmt == "sqlstring" else value
        return ",".join(_quote(v) for v in value)

    def _macro(self, name: str, args: list[str]) -> str:
        lo, hi = _rfc3339(self.start), _rfc3339(self.end)
        if name == "time":
            return f'{args[0]} AS "time"'
        if name == "timeEpoch":
            return f'extract(epoch from {args[0]}) AS "time"'
        if name == "timeFilter":
            return f"{args[0]} BETWEEN '{lo}' AND '{hi}'"
        if name == "timeFrom":
            return f"'{lo}'"
        if name == "timeTo":
            return f"'{hi}'"
        if name in ("timeGroup", "timeGroupAlias"):
            if len(args) < 2:
                raise ValueError(f"$__{name} needs a column and an interval, got {args}")
            bucket = f"time_bucket('{parse_interval(args[1]).total_seconds():.3f}s',{args[0]})"
            return bucket + (' AS "time"' if name == "timeGroupAlias" else "")
        if name == "unixEpochFilter":
            return (
                f"{args[0]} >= {int(self.start.timestamp())} "
                f"AND {args[0]} <= {int(self.end.timestamp())}"
            )
        if name == "unixEpochFrom":
            return str(int(self.start.timestamp()))
        if name == "unixEpochTo":
            return str(int(self.end.timestamp()))
        raise ValueError(f"undefined macro: $__{name}")

    def expand(self, sql: str) -> str:
        """Replace template variables, then macros, as Grafana does before running ``sql``."""

        def variable(m: re.Match[str]) -> str:
            name = m[1] or m[3] or m[4]
            return self._variable(name, m[2], m[0])

        sql = _VARIABLE.sub(variable, sql)

        def macro(m: re.Match[str]) -> str:
            args = [a.strip() for a in m[2].split(",")] if m[2].strip() else []
            return self._macro(m[1], args)

        return _MACRO.sub(macro, sql)


@dataclass(frozen=True)
class Query:
    """One SQL text of a dashboard: a panel target or a template variable's query."""

    dashboard: str
    where: str
    sql: str


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def dashboard_queries(path: Path) -> list[Query]:
    """Every SQL text of a Grafana dashboard JSON file: variables first, then panel targets."""
    board = json.loads(path.read_text())
    name = board.get("title", path.stem)
    out: list[Query] = []
    for var in board.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var["query"]
            sql = query if isinstance(query, str) else query.get("rawSql") or query["query"]
            out.append(Query(name, f"variable ${var['name']}", sql))
    for panel in _panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if "rawSql" in target:
                out.append(
                    Query(name, f"panel {panel.get('title')!r} {target['refId']}", target["rawSql"])
                )
    return out
