"""The operations dashboard: static pages under /dashboard/ that draw the JSON API with ECharts.

Each page is one HTML shell (``static/page.html``) and a small ES module per page; they call the
``/v1/sites/{site}/…`` API with the site's key, which the browser keeps in ``sessionStorage``
(typed into the sign-in page, or handed over once as ``#key=…`` in the address, which the page
removes at once). Served HTML never holds a key. The charting library is vendored at set-up
(``make vendor``) into ``static/vendor/``; without it the pages answer 503 with one sentence.

Nothing served here without a key says which sites exist: the sign-in page asks for the site id
and checks the key against the API, a page's shell is the same for any well-formed site id
(its name comes from the API once the key is accepted), and no answer lists sites. Every answer
under ``/dashboard`` carries :data:`SECURITY_HEADERS` (a strict Content-Security-Policy, no
framing, no content sniffing).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall.site import SLUG_PATTERN

STATIC = Path(__file__).resolve().parent / "static"
VENDOR_ASSET = STATIC / "vendor" / "echarts.min.js"

SECURITY_HEADERS: Final = {
    # Scripts, styles, data and images from this origin only (ECharts draws on canvases and the
    # pages colour table cells with style attributes, hence inline styles; blob: and data: are
    # the floor-plan images the pages fetch with the key, and the empty favicon).
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Headers on every answer under /dashboard (and the / redirect to it)."""

_SITE_ID = re.compile(SLUG_PATTERN)

PAGES = {
    "overview": "Overview",
    "heatmap": "Heatmap",
    "dwell": "Dwell time",
    "flows": "Flows",
    "cameras": "Cameras",
    "conversion": "Conversion",
    "alerts": "Alerts",
    "compare": "Compare",
    "portfolio": "Portfolio",
    "queues": "Queues and groups",
}


def missing_asset_message() -> str | None:
    """One sentence naming the missing charting library and how to get it, or None."""
    if VENDOR_ASSET.is_file():
        return None
    return (
        f"the dashboard's charting library is missing ({VENDOR_ASSET}); run `make vendor` "
        "(it fetches the pinned echarts package from the npm registry once)"
    )


def _page(site_id: str, page: str) -> str:
    nav = "\n".join(
        f'<a href="/dashboard/{html.escape(site_id)}/{p}"'
        f"{' aria-current=page' if p == page else ''}>{title}</a>"
        for p, title in PAGES.items()
    )
    text = (STATIC / "page.html").read_text()
    values = {
        "{{site}}": html.escape(site_id),
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
def sites() -> JSONResponse:
    """Gone: listing the configured sites told anyone without a key which sites exist."""
    return JSONResponse(
        {"detail": "the dashboard lists no sites; sign in with your site id and its API key"},
        status_code=404,
    )


def _not_found(what: str) -> HTMLResponse:
    body = f"<!doctype html><title>footfall</title><p>{html.escape(what)}</p>"
    return HTMLResponse(body, status_code=404)


def _bad_site(site: str) -> HTMLResponse:
    return _not_found(
        f"{json.dumps(site)} is not a site id (lower-case letters, digits, - and _); "
        "open /dashboard/ to sign in"
    )


@router.get("/dashboard/{site}")
def site_home(site: str) -> Response:
    if not _SITE_ID.match(site):
        return _bad_site(site)
    return RedirectResponse(f"/dashboard/{site}/overview")


@router.get("/dashboard/{site}/{page}")
def page(
    site: Annotated[str, PathParam()],
    page: Annotated[str, PathParam()],
) -> Response:
    """A page's shell; the same for every well-formed site id, configured or not (whether a
    site exists, and its name, are for the API to say once the key is accepted)."""
    problem = missing_asset_message()
    if problem:
        return _unavailable(problem)
    if not _SITE_ID.match(site):
        return _bad_site(site)
    if page not in PAGES:
        return _not_found(f"no dashboard page {json.dumps(page)}; pages: {', '.join(PAGES)}")
    return HTMLResponse(_page(site, page))


class _SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on the answers under /dashboard and on /."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/" or path.startswith("/dashboard")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages and static files to ``app``; / redirects to the dashboard.
    Answers under /dashboard carry :data:`SECURITY_HEADERS`."""
    app.add_middleware(_SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    # The static mount comes first, or /dashboard/{site}/{page} would answer its paths.
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(router)
