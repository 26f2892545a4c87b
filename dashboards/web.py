"""The web pages on the hub's app: sign-in, the three roles' pages, their local assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, JSONResponse, Response

from dashboards import auth, desk, engineer, field, manager
from dashboards.auth import SignInNeeded, sign_in_redirect
from dashboards.render import PageError, render
from hub.api.errors import error_body

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "sse.js": "htmx-ext-sse/dist/sse.js",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
}
"""The browser libraries the pages load, from the npm lock (`scripts/bootstrap` installs)."""


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

    for module in (auth, engineer, desk, manager, field):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        return sign_in_redirect(request)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", status=exc.status, message=exc.message)
