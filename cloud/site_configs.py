"""The site configs a long-running cloud process (the API, the stitcher) serves, kept up with
the sites folder.

:class:`LiveSites` starts from the sites read at start and, on every :meth:`LiveSites.rescan`,
takes up the site files added or changed since (:class:`~footfall.site.folder.SitesWatch`), by
the rules ingest follows: a file that does not load, that defines a site another file already
defines, or whose counting rules disagree with those of the site's stored data is reported in
one log sentence and left out; the rest keeps being served. :attr:`LiveSites.by_id` is replaced
on a change, never changed in place, so readers on other threads see one whole set or the
next.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import psycopg

from cloud.analytics.rules import agree_rules
from cloud.db import DatabaseError, connect
from footfall.errors import UserError
from footfall.site import Site
from footfall.site.folder import SitesWatch

log = logging.getLogger(__name__)


class LiveSites:
    """Sites by id, re-read from ``watch`` on :meth:`rescan` (no ``watch``: fixed).

    Read ``watch`` once (:meth:`SitesWatch.changes`) before loading ``sites``: a file written
    in between is then reported again rather than missed."""

    def __init__(
        self, sites: Sequence[Site], watch: SitesWatch | None, database_url: str, who: str
    ) -> None:
        self.by_id: Mapping[str, Site] = MappingProxyType({s.id: s for s in sites})
        self.watch = watch
        self.database_url = database_url
        self.who = who
        """The process, for the log sentences ("the API", "the stitcher")."""

    @property
    def sites(self) -> list[Site]:
        return list(self.by_id.values())

    def rescan(self) -> list[Site]:
        """Take up the site files added or changed since the last call; the sites taken up."""
        if self.watch is None:
            return []
        loaded, problems = self.watch.changes()
        for problem in problems:
            log.error("site config left out: %s; %s goes on without it", problem, self.who)
        known = self.by_id
        taken: list[Site] = []
        for path, site in loaded:
            old = known.get(site.id)
            if old is not None and old.source_file != site.source_file:
                log.error(
                    "site config left out: %s defines site %r, already read from %s; give "
                    "each site file its own site.id",
                    path,
                    site.id,
                    old.source_file,
                )
                continue
            if old == site:
                continue
            try:
                with connect(self.database_url) as conn:
                    agree_rules(conn, site)
            except (DatabaseError, psycopg.Error) as exc:  # not the file's fault: try again
                self.watch.forget(path)
                log.error(
                    "site config %s not taken up yet, its counting rules could not be checked "
                    "(%s); %s tries again at its next rescan",
                    path,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                    self.who,
                )
                continue
            except UserError as exc:
                log.error("site config left out: %s; %s goes on without it", exc, self.who)
                continue
            taken.append(site)
        if taken:
            self.by_id = MappingProxyType({**known, **{s.id: s for s in taken}})
            for site in taken:
                log.info("site config taken up: site=%s cameras=%d", site.id, len(site.cameras))
        return taken
