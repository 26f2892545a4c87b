"""The web pages on the hub's app: sign-in, the three roles' pages, their local assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from dashboards import auth, desk, engineer, field, forecasts, i18n, ledger, manager
from dashboards.auth import SignInNeeded, sign_in_redirect
from dashboards.render import SECURITY_HEADERS, PageError, render
from hub.api.errors import error_body

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "sse.js": "htmx-ext-sse/dist/sse.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}
"""The browser libraries the pages load, from the npm lock (`scripts/bootstrap` installs)."""


BUSY = "The hub is busy: try again in a moment."
_BUSY_PAGES: dict[tuple[str, bool], bytes] = {}
"""The busy page per language, whole page or htmx fragment: rendered once, as refusing must
cost next to nothing when refusals come by the hundred a second."""


async def busy_page(request: Request, retry_after: int) -> Response:
    """The page of a request refused while the hub is at capacity (503, see `Admission`)."""
    key = (i18n.language(request), bool(request.headers.get("hx-request")))
    body = _BUSY_PAGES.get(key)
    if body is None:
        body = _BUSY_PAGES[key] = bytes(render(request, "error.html", message=BUSY).body)
    return HTMLResponse(body, status_code=503, headers=SECURITY_HEADERS)


def install_pages(app: FastAPI) -> None:
    """Add the pages, `/static` and their error handling to the hub's app."""
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="web-static")

    @app.get("/static/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        """One of the pinned browser libraries, served by the hub itself."""
        path = VENDOR.get(name)
        if path is None or not (NODE_MODULES / path).is_file():
            return JSONResponse(error_body("not_found", f"no asset {name}"), status_code=404)
        return FileResponse(
            NODE_MODULES / path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    for module in (auth, engineer, desk, ledger, manager, forecasts, field):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        return sign_in_redirect(request)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        response = render(
            request,
            "error.html",
            status=exc.status,
            message=exc.message,
            code=exc.code,
            what=exc.what,
        )
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
