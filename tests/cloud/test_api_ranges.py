"""The one ``from``/``to`` dependency behind /compare, /conversion and /alerts (and the
bucketed range of the other resources): each keeps its documented defaults, and a bad range
is one sentence naming it."""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations below.
import re
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient

from cloud.api import deps
from cloud.api.deps import Range, SpanDependency
from cloud.api.params import TimeRange
from cloud.api.routers.alerts import RECENT
from cloud.api.routers.alerts import router as alerts_router
from cloud.api.routers.compare import COMPARED
from cloud.api.routers.compare import router as compare_router
from cloud.api.routers.conversion import SOLD
from cloud.api.routers.conversion import router as conversion_router
from footfall.site import Site, load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
TZ = ZoneInfo(SITE.site.timezone)
PREFIX = "/v1/sites/{site}"


def _shown(r: TimeRange) -> dict[str, Any]:
    return {"from": r.start.isoformat(), "to": r.end.isoformat(), "bucket_s": r.bucket.seconds}


def _endpoint(dependency: SpanDependency) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def answer(r: Annotated[TimeRange, Depends(dependency)]) -> dict[str, Any]:
        return _shown(r)

    return answer


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The routers' own range dependencies behind bare resources (no database, no key)."""
    app = FastAPI()

    async def the_site() -> Site:
        return SITE

    app.dependency_overrides[deps._site] = the_site
    for path, dependency in (("compare", COMPARED), ("conversion", SOLD), ("alerts", RECENT)):
        app.get(f"/{path}")(_endpoint(dependency))

    async def bucketed(r: Range) -> dict[str, Any]:
        return _shown(r)

    app.get("/footfall")(bucketed)
    with TestClient(app) as c:
        yield c


def _range(client: TestClient, path: str, **params: str) -> tuple[datetime, datetime]:
    got = client.get(f"/{path}", params=params)
    assert got.status_code == 200, got.text
    body = got.json()
    return datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])


@pytest.mark.parametrize("path", ["compare", "conversion", "footfall"])
def test_without_a_range_it_is_today_on_the_site_clock(client: TestClient, path: str) -> None:
    lo, hi = _range(client, path)
    today = datetime.now(TZ).date()
    assert lo == datetime(today.year, today.month, today.day, tzinfo=TZ)
    assert hi - lo == timedelta(days=1)
    lo, hi = _range(client, path, **{"from": "2026-11-20T09:00"})
    assert (lo, hi - lo) == (datetime(2026, 11, 20, 9, tzinfo=TZ), timedelta(days=1))
    lo, hi = _range(client, path, to="2026-11-20T09:00")
    assert (hi, hi - lo) == (datetime(2026, 11, 20, 9, tzinfo=TZ), timedelta(days=1))


def test_alerts_default_to_the_last_seven_days(client: TestClient) -> None:
    before = datetime.now(UTC)
    lo, hi = _range(client, "alerts")
    after = datetime.now(UTC)
    assert before < hi <= after + timedelta(seconds=1) and hi - lo == timedelta(days=7)
    lo, hi = _range(client, "alerts", to="2026-11-20T09:00")
    assert (hi, hi - lo) == (datetime(2026, 11, 20, 9, tzinfo=TZ), timedelta(days=7))
    lo, hi = _range(client, "alerts", **{"from": "2026-11-20T09:00"})
    assert lo == datetime(2026, 11, 20, 9, tzinfo=TZ) and before < hi <= after + timedelta(
        seconds=2
    )


def test_only_the_bucketed_range_takes_a_bucket(client: TestClient) -> None:
    r = client.get("/footfall", params={"from": "2026-11-20T09:00", "to": "2026-11-20T10:00"})
    assert r.json()["bucket_s"] == 15 * 60
    r = client.get("/footfall", params={"from": "2026-11-20T09:00", "bucket": "1h"})
    assert r.json()["bucket_s"] == 3600
    r = client.get("/footfall", params={"bucket": "7 weeks"})
    assert r.status_code == 422 and r.json()["detail"].startswith("bucket '7 weeks' is not a")


@pytest.mark.parametrize("path", ["compare", "conversion", "alerts", "footfall"])
@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"from": "yesterday"}, "from='yesterday' is not a date-time; use ISO 8601 such as"),
        ({"to": "9999-01-01"}, "to='9999-01-01' is outside the supported range"),
        (
            {"from": "2026-11-21T00:00", "to": "2026-11-20T00:00"},
            "to (2026-11-20T00:00) must be after from (2026-11-21T00:00); send a later to",
        ),
        ({"from": "2025-01-01", "to": "2026-11-20"}, "longer than 400 days; ask for less"),
    ],
)
def test_a_bad_range_is_one_sentence_naming_it(
    client: TestClient, path: str, params: dict[str, str], said: str
) -> None:
    r = client.get(f"/{path}", params=params)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert said in detail and not re.search(r"[.;:!?]\s+[A-Z]", detail), detail


def test_a_from_after_the_default_to_names_the_default(client: TestClient) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="seconds")
    r = client.get("/alerts", params={"from": future})
    assert r.status_code == 422
    assert f"by default) must be after from ({future})" in r.json()["detail"]
    with pytest.raises(HTTPException) as raised:
        TimeRange.parse("2100-01-01", None, None, TZ)
    assert "to (2100-01-01T" in raised.value.detail and "by default)" in raised.value.detail


def test_the_three_resources_document_their_own_defaults() -> None:
    app = FastAPI()
    for router in (compare_router, conversion_router, alerts_router):
        app.include_router(router, prefix=PREFIX)
    doc = app.openapi()

    def params(path: str) -> dict[str, str]:
        found = doc["paths"][path]["get"]["parameters"]
        return {p["name"]: p.get("description", "") for p in found if p["in"] == "query"}

    compare, conversion, alerts = (
        params(PREFIX + "/compare"),
        params(PREFIX + "/conversion"),
        params(PREFIX + "/alerts"),
    )
    assert "bucket" not in compare and "bucket" not in conversion and "bucket" not in alerts
    assert compare["from"].endswith("Default: today 00:00 (site time), or a day before `to`.")
    assert compare["to"].endswith("Default: a day after `from`, at most now.")
    assert conversion["to"].endswith("Default: a day after `from`.")
    assert alerts["from"].endswith("Default: 7 days before `to`.")
    assert alerts["to"].endswith("Default: now.")
