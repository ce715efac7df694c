"""The operations dashboard: static pages under /dashboard/ that draw the JSON API with ECharts.

Each page is one HTML shell (``static/page.html``) and a small ES module per page; they call the
``/v1/sites/{site}/…`` API with the site's key, which the browser keeps in ``sessionStorage``
(typed into the sign-in page, or handed over once as ``#key=…`` in the address, which the page
removes at once). Served HTML never holds a key. The charting library is vendored at set-up
(``make vendor``) into ``static/vendor/``; without it the pages answer 503 with one sentence.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from cloud.api.deps import State

STATIC = Path(__file__).resolve().parent / "static"
VENDOR_ASSET = STATIC / "vendor" / "echarts.min.js"

PAGES = {
    "overview": "Overview",
    "heatmap": "Heatmap",
    "dwell": "Dwell time",
    "flows": "Flows",
    "cameras": "Cameras",
}


def missing_asset_message() -> str | None:
    """One sentence naming the missing charting library and how to get it, or None."""
    if VENDOR_ASSET.is_file():
        return None
    return (
        f"the dashboard's charting library is missing ({VENDOR_ASSET}); run `make vendor` "
        "(it fetches the pinned echarts package from the npm registry once)"
    )


def _page(site_id: str, site_name: str, page: str) -> str:
    nav = "\n".join(
        f'<a href="/dashboard/{html.escape(site_id)}/{p}"'
        f"{' aria-current=page' if p == page else ''}>{title}</a>"
        for p, title in PAGES.items()
    )
    text = (STATIC / "page.html").read_text()
    values = {
        "{{site}}": html.escape(site_id),
        "{{site_name}}": html.escape(site_name),
        "{{page}}": page,
        "{{title}}": PAGES[page],
        "{{nav}}": nav,
        "{{body}}": (STATIC / f"{page}.html").read_text(),
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _unavailable(message: str) -> HTMLResponse:
    body = f"<!doctype html><title>footfall</title><p>{html.escape(message)}</p>"
    return HTMLResponse(body, status_code=503)


router = APIRouter(include_in_schema=False)


@router.get("/dashboard/")
def sign_in() -> Response:
    problem = missing_asset_message()
    if problem:
        return _unavailable(problem)
    return HTMLResponse((STATIC / "signin.html").read_text())


@router.get("/dashboard/sites.json")
def sites(state: State) -> JSONResponse:
    """Ids and names of the configured sites (for the sign-in page; no data)."""
    return JSONResponse([{"id": s.id, "name": s.site.name} for s in state.sites.values()])


@router.get("/dashboard/{site}")
def site_home(site: str) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/{site}/overview")


@router.get("/dashboard/{site}/{page}")
def page(
    state: State,
    site: Annotated[str, PathParam()],
    page: Annotated[str, PathParam()],
) -> Response:
    problem = missing_asset_message()
    if problem:
        return _unavailable(problem)
    found = state.sites.get(site)
    if found is None:
        known = ", ".join(state.sites) or "none"
        return HTMLResponse(
            f"<!doctype html><p>site {html.escape(json.dumps(site))} is not configured in this "
            f"API; configured: {html.escape(known)}</p>",
            status_code=404,
        )
    if page not in PAGES:
        return HTMLResponse(
            f"<!doctype html><p>no dashboard page {html.escape(json.dumps(page))}; pages: "
            f"{', '.join(PAGES)}</p>",
            status_code=404,
        )
    return HTMLResponse(_page(found.id, found.site.name, page))


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages and static files to ``app``; / redirects to the dashboard."""

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    # The static mount comes first, or /dashboard/{site}/{page} would answer its paths.
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(router)
