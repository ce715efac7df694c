"""The counting rules stored with the data they produced (table ``site_rules``).

Crossings, visits, the derivation state and heatmap cells depend on a site's counting rules
(:class:`footfall.site.CountingRules`, the site config's ``counting:`` section). Every process that
writes or reads them (ingest, recompute, the API) calls :func:`agree_rules` for each of its sites
on start: the first records the rules, and a later one whose config says otherwise refuses with
one sentence naming the fix, so no process silently mixes or misreads numbers made with other
rules. :func:`adopt_rules` records new rules (``footfall cloud recompute --adopt-rules``, after
re-deriving the site's data with them).
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


class RulesMismatch(UserError):
    """A site config's counting rules differ from those its stored data was derived with."""


def stored_rules(conn: Conn, site_id: str) -> CountingRules | None:
    """The rules recorded for ``site_id`` (None: none yet). A setting added since they were
    recorded reads as the behaviour their data was derived with
    (:func:`footfall.site.rules.stored_counting_rules`), so a config with today's default is
    refused with the recompute fix rather than mixed with data derived without it."""
    row = conn.execute("SELECT rules FROM site_rules WHERE site_id = %s", (site_id,)).fetchone()
    if row is None:
        return None
    data: Any = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return stored_counting_rules(data)


def agree_rules(conn: Conn, site: Site) -> CountingRules:
    """Record the site's rules if none are recorded; raise :class:`RulesMismatch` if the
    recorded ones differ from the site config's. Commits."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO site_rules (site_id, rules) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (site.id, Jsonb(site.counting.model_dump())),
        )
        stored = stored_rules(conn, site.id)
    assert stored is not None
    if stored != site.counting:
        where = site.source_file or "the site config"
        raise RulesMismatch(
            f"site {site.id!r}: the stored crossings, visits and heatmap were derived with "
            f"counting rules {stored.describe()}, but {where} says {site.counting.describe()}; "
            f"set its counting: section back to those values, or re-derive the stored data "
            f"with the new rules (footfall cloud recompute --site {where} --adopt-rules)"
        )
    return stored


def adopt_rules(conn: Conn, site: Site) -> None:
    """Record the site config's rules as those of its stored data (the caller re-derived it)."""
    conn.execute(
        "INSERT INTO site_rules (site_id, rules) VALUES (%s, %s) ON CONFLICT (site_id) "
        "DO UPDATE SET rules = EXCLUDED.rules, recorded_at = now()",
        (site.id, Jsonb(site.counting.model_dump())),
    )
