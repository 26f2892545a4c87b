"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.datastructures import State

from dashboards.web import busy_page, install_pages
from hub.alarms.routes import router as alarms_router
from hub.api.admission import Admission
from hub.api.bodies import GuardedBodies
from hub.api.deps import PrincipalDep, SessionDep, known_site
from hub.api.errors import declare_errors, error_body, install_error_handlers
from hub.api.params import StorableUrls, known_query_only
from hub.api.throttle import Throttle
from hub.attachments.routes import router as attachments_router
from hub.auth.routes import router as tokens_router
from hub.auth.service import principal_for_session, principal_for_token
from hub.clock import Clock, SystemClock
from hub.complaints.routes import router as complaints_router
from hub.correlation.deps import DeskCorrelation
from hub.correlation.routes import router as correlation_router
from hub.db import make_engine, session_factory
from hub.evidence.routes import router as evidence_router
from hub.forecasts.routes import router as forecasts_router
from hub.health import PROCESS, Health
from hub.inspections.routes import router as inspections_router
from hub.live.routes import router as live_router
from hub.notices.routes import router as notices_router
from hub.parts.routes import router as parts_router
from hub.registry.routes import router as registry_router
from hub.reports.routes import router as reports_router
from hub.settings import Settings
from hub.signals.routes import router as signals_router
from hub.wiring import wire
from hub.workorders.policy import SlaPolicy
from hub.workorders.routes import router as workorders_router

API_PREFIX = "/api/v1"
DOCS_ASSETS = "/docs/assets"
"""Where the Swagger UI and ReDoc files are served from: the hub itself, no CDN."""

DOMAIN_ROUTERS: list[APIRouter] = [
    registry_router,
    tokens_router,
    workorders_router,
    signals_router,
    alarms_router,
    complaints_router,
    inspections_router,
    evidence_router,
    notices_router,
    correlation_router,
    live_router,
    reports_router,
    forecasts_router,
    parts_router,
    attachments_router,
]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the API on `engine` (default: the configured database)."""
    settings = settings or Settings()
    engine = engine or make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    app = FastAPI(
        title="facility-hub",
        version="0.1.0",
        description="Facility signals, alarms, work orders and complaints for property services.",
        docs_url=None,
        redoc_url=None,
    )
    configure(app, settings=settings, engine=engine, clock=clock or SystemClock())
    install_error_handlers(app)
    install_docs(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    def readyz(session: SessionDep) -> Any:
        """Readiness: the database answers."""
        try:
            session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return JSONResponse(
                error_body("not_ready", f"database unreachable: {type(exc).__name__}"),
                status_code=503,
            )
        health: Health = app.state.health
        return {"status": "ready", "database": engine.dialect.name, **health.reports()}

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics() -> str:
        """The state of the process's parts (the InfluxDB sink) as Prometheus gauges."""
        health: Health = app.state.health
        return health.metrics()

    api = APIRouter(
        prefix=API_PREFIX, dependencies=[Depends(known_query_only), Depends(known_site)]
    )

    @api.get("/me", tags=["auth"])
    def me(principal: PrincipalDep) -> dict[str, Any]:
        """Who the token belongs to: name, role and sites."""
        return {
            "id": principal.user_id,
            "name": principal.name,
            "role": principal.role,
            "sites": sorted(principal.site_ids),
            "department_head": principal.department_head,
        }

    declare_errors(api)
    for router in DOMAIN_ROUTERS:
        declare_errors(router)
        api.include_router(router)
    app.include_router(api)
    install_pages(app)
    app.add_middleware(GuardedBodies)
    app.add_middleware(StorableUrls)
    app.add_middleware(Admission, refuse_page=busy_page)
    return app


def configure(app: FastAPI, *, settings: Settings, engine: Engine, clock: Clock) -> None:
    """Give the app its settings, database, clock and policies, replacing all it held.

    Everything the routes find on `app.state` is set here (and what they cache there on
    first use, such as the evidence keyring, is dropped), so one built app can be pointed
    at another configuration.
    """
    app.state = State()
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = wire(session_factory(engine), settings=settings, clock=clock)
    app.state.clock = clock
    app.state.policy = SlaPolicy.from_settings(settings)
    app.state.authenticate = principal_for_token
    app.state.authenticate_session = principal_for_session
    app.state.throttle = Throttle()
    app.state.correlator = DeskCorrelation.from_settings(settings)
    app.state.health = PROCESS


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` (Swagger UI) and `/redoc` with their files from the hub, for offline sites."""
    # The packaged files of fastapi-offline: Swagger UI 5 (it reads OpenAPI 3.1) and ReDoc 2.
    app.mount(
        DOCS_ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets"
    )
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI on the hub's own copy of its files."""
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # No badge from the online validator: the page must not reach outside the site.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        """Where Swagger UI's OAuth2 flow returns to."""
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """ReDoc on the hub's own copy of its script, without web fonts."""
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
