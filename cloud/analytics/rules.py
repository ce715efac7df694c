"""The counting rules stored with the data they produced (table ``site_rules``).

Crossings, visits, the derivation state and heatmap cells depend on a site's counting rules
(:class:`footfall.site.CountingRules`, the site config's ``counting:`` section). Every process that
writes or reads them (ingest, recompute, the API) calls :func:`agree_rules` for each of its sites
on start: the first records the rules, and a later one whose config says otherwise refuses with
one sentence naming the fix, so no process silently mixes or misreads numbers made with other
rules. :func:`adopt_rules` records new rules (``footfall cloud recompute --adopt-rules``, after
re-deriving the site's data with them).

Only the settings rows are derived with are recorded and compared (:func:`derived_with`):
``min_visitor_s`` is applied when the API answers (visitors/summary), so changing it needs no
re-derivation and is taken up at once.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from footfall.errors import UserError
from footfall.site import CountingRules, Site
from footfall.site.rules import stored_counting_rules

Conn = psycopg.Connection[tuple[object, ...]]


QUERY_TIME_SETTINGS = frozenset({"min_visitor_s"})
"""Counting settings no stored row depends on: applied to stored tracks when the API answers
(:func:`cloud.api.queries.visitor_summary`), never by ingest or recompute."""


def derived_with(rules: CountingRules) -> dict[str, Any]:
    """The settings stored crossings, visits and heatmap cells are derived with: the rules less
    :data:`QUERY_TIME_SETTINGS`."""
    return {k: v for k, v in rules.model_dump().items() if k not in QUERY_TIME_SETTINGS}


def same_derivation(a: CountingRules, b: CountingRules) -> bool:
    """Data derived with ``a`` is what ``b`` would derive (no re-derivation needed)."""
    return derived_with(a) == derived_with(b)


def describe(rules: CountingRules) -> str:
    """The settings stored data depends on, in one line: ``line_hysteresis_m=0.3, …``."""
    return ", ".join(f"{k}={v:g}" for k, v in derived_with(rules).items())


class RulesMismatch(UserError):
    """A site config's counting rules differ from those its stored data was derived with."""


def stored_rules(conn: Conn, site_id: str) -> CountingRules | None:
    """The rules recorded for ``site_id`` (None: none yet). A setting added since they were
    recorded reads as the behaviour their data was derived with
    (:func:`footfall.site.rules.stored_counting_rules`), so a config with today's default is
    refused with the recompute fix rather than mixed with data derived without it. Settings of
    :data:`QUERY_TIME_SETTINGS` are not recorded: they read as their defaults here."""
    row = conn.execute("SELECT rules FROM site_rules WHERE site_id = %s", (site_id,)).fetchone()
    if row is None:
        return None
    data: Any = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return stored_counting_rules(data)


def agree_rules(conn: Conn, site: Site) -> CountingRules:
    """Record the site's rules if none are recorded; raise :class:`RulesMismatch` if the
    recorded ones differ from the site config's in a setting stored data depends on
    (:func:`same_derivation`). Commits. Returns the site config's rules (they agree)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO site_rules (site_id, rules) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (site.id, Jsonb(derived_with(site.counting))),
        )
        stored = stored_rules(conn, site.id)
    assert stored is not None
    if not same_derivation(stored, site.counting):
        where = site.source_file or "the site config"
        raise RulesMismatch(
            f"site {site.id!r}: the stored crossings, visits and heatmap were derived with "
            f"counting rules {describe(stored)}, but {where} says {describe(site.counting)}; "
            f"set its counting: section back to those values, or re-derive the stored data "
            f"with the new rules (footfall cloud recompute --site {where} --adopt-rules)"
        )
    return site.counting


def adopt_rules(conn: Conn, site: Site) -> None:
    """Record the site config's rules as those of its stored data (the caller re-derived it)."""
    conn.execute(
        "INSERT INTO site_rules (site_id, rules) VALUES (%s, %s) ON CONFLICT (site_id) "
        "DO UPDATE SET rules = EXCLUDED.rules, recorded_at = now()",
        (site.id, Jsonb(derived_with(site.counting))),
    )
