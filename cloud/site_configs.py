"""The site configs a long-running cloud process (the API, the stitcher) serves, kept up with
the sites folder.

:class:`LiveSites` starts from the sites read at start and, on every :meth:`LiveSites.rescan`,
takes up the site files added or changed since (:class:`~footfall.site.folder.SitesWatch`), by
the rules ingest follows: a file that does not load, that defines a site another file already
defines, or whose counting rules disagree with those of the site's stored data is reported in
one log sentence and left out; the rest keeps being served. A site file removed from the
sites folder takes its site out of the set (one log sentence naming the file).
:attr:`LiveSites.by_id` is replaced on a change, never changed in place, so readers on other
threads see one whole set or the next.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import psycopg

from cloud.analytics.rules import agree_rules
from cloud.db import DatabaseError, connect
from footfall.errors import UserError
from footfall.site import Site
from footfall.site.folder import SitesWatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rescan:
    """What a rescan changed: true when the set of sites did."""

    taken: list[Site] = field(default_factory=list)
    """Sites added or changed, taken up."""
    dropped: list[str] = field(default_factory=list)
    """Ids of the sites whose files were removed from the sites folder."""

    def __bool__(self) -> bool:
        return bool(self.taken or self.dropped)


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

    def rescan(self) -> Rescan:
        """Take up the site files added or changed since the last call, and drop the sites
        whose files were removed from the sites folder."""
        if self.watch is None:
            return Rescan()
        dropped = self._drop(self.watch.gone())
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
        return Rescan(taken, dropped)

    def _drop(self, gone: list[Path]) -> list[str]:
        """Take the sites read from the ``gone`` files out of the set; their ids."""
        removed = {path.absolute() for path in gone}
        dropped = {
            s.id: s.source_file
            for s in self.by_id.values()
            if s.source_file is not None and s.source_file.absolute() in removed
        }
        if dropped:
            self.by_id = MappingProxyType({k: v for k, v in self.by_id.items() if k not in dropped})
        for site_id, path in dropped.items():
            log.warning(
                "site config removed: %s is no longer in the sites folder, so %s no longer "
                "serves site %r",
                path,
                self.who,
                site_id,
            )
        return list(dropped)
