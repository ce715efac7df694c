"""The ``footfall cloud stitch`` service loop (:func:`run_stitcher`): a stitching pass over the
stored tracklets of each site and mode, again and again.

(Stitching evaluated against the simulator lives above the cloud, in
:mod:`footfall.evaluation.stitching_stack`.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from cloud.db import connect
from cloud.migrate import migrate
from cloud.reports.staff_store import STAFF_PASS_S, staff_pass
from cloud.site_configs import LiveSites
from cloud.stitch.stitcher import StitchSettings
from cloud.stitch.store import stitch_pass
from footfall.site import Site
from footfall.site.folder import SitesWatch

log = logging.getLogger("footfall.cloud.stitch")


def run_stitcher(
    database_url: str,
    sites: Sequence[Site],
    settings: Sequence[StitchSettings],
    interval_s: float,
    stop: threading.Event,
    once: bool = False,
    watch: SitesWatch | None = None,
    rescan_s: float = 10.0,
) -> None:
    """``footfall cloud stitch``: a pass per site and mode every ``interval_s`` until stopped,
    and the staff pass (:mod:`cloud.reports.staff_store`) every ``STAFF_PASS_S``; with
    ``watch``, site files added or changed later are taken up every ``rescan_s``."""
    last_staff = -STAFF_PASS_S
    configs = LiveSites(sites, watch, database_url, "the stitcher")
    last_rescan = time.monotonic()
    with connect(database_url) as conn:
        migrate(conn)
        while not stop.is_set():
            if time.monotonic() - last_rescan >= rescan_s:
                last_rescan = time.monotonic()
                if configs.rescan():
                    sites = configs.sites
            if once or time.monotonic() - last_staff >= STAFF_PASS_S:
                last_staff = time.monotonic()
                for site in sites:
                    found = staff_pass(conn, site)
                    conn.commit()
                    if found or once:
                        log.info("staff pass site=%s new_staff_tracks=%d", site.id, found)
            for site in sites:
                for s in settings:
                    result = stitch_pass(conn, site, s)
                    conn.commit()
                    if result.decided or once:  # --once always says what its pass did
                        log.info(
                            "stitched site=%s mode=%s decided=%d visitors=%d merged=%d",
                            site.id,
                            s.mode,
                            result.decided,
                            result.visitors,
                            result.merged,
                        )
            if once:
                return
            stop.wait(interval_s)
