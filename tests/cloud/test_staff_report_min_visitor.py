"""The staff report's unique visitors follow the site's ``counting.min_visitor_s``, as
``visitors/summary`` does, not the library default (12 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from cloud.api import report_queries
from cloud.api.params import TimeRange
from cloud.reports.staff import StaffResult
from cloud.stitch.tracklets import Tracklets
from footfall.site import Site, load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs/sites/two_floor_mall.yaml")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _stored(site: Site, seen_s: list[float]) -> report_queries.Stored:
    """One visitor per entry of ``seen_s``, each one track seen that long."""
    cam = site.cameras[0].id
    n = len(seen_s)
    t = Tracklets(
        keys=[(cam, "run", str(i), T0 + timedelta(seconds=10 * i)) for i in range(n)],
        camera=np.zeros(n, dtype=np.int64),
        start=np.array([T0.timestamp() + 10 * i for i in range(n)]),
        end=np.array([T0.timestamp() + 10 * i + s for i, s in enumerate(seen_s)]),
        embedding=np.zeros((n, 4)),
        quality=np.ones(n),
        frames=np.ones(n),
        paths=[np.zeros((0, 3)) for _ in range(n)],
    )
    return report_queries.Stored(
        t, [], [], {(cam, str(i)): f"v{i}" for i in range(n)}, StaffResult({}, 0)
    )


@pytest.mark.parametrize("min_visitor_s", [5.0, 30.0])
def test_staff_report_counts_visitors_by_the_sites_rule(
    monkeypatch: pytest.MonkeyPatch, min_visitor_s: float
) -> None:
    site = SITE.model_copy(
        update={"counting": SITE.counting.model_copy(update={"min_visitor_s": min_visitor_s})}
    )
    seen_s = [8.0, 20.0, 40.0]  # 8 s: counts at 5 s only; 20 s: at 5 s (and the default 12 s)
    stored = _stored(site, seen_s)
    monkeypatch.setattr(report_queries, "load", lambda *_a, **_k: stored)
    r = TimeRange(T0, T0 + timedelta(hours=1), timedelta(hours=1), ZoneInfo("UTC"))
    out = report_queries.staff(None, site, r)  # type: ignore[arg-type]
    want = sum(1 for s in seen_s if s >= min_visitor_s)
    assert out["unique_visitors_with_staff"] == want
    assert out["unique_visitors_staff_excluded"] == want
