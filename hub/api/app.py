"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine

from hub.alarms.routes import router as alarms_router
from hub.api.deps import PrincipalDep, SessionDep
from hub.api.errors import error_body, install_error_handlers
from hub.auth.service import principal_for_token
from hub.clock import Clock, SystemClock
from hub.complaints.routes import router as complaints_router
from hub.db import make_engine, session_factory
from hub.registry.routes import router as registry_router
from hub.settings import Settings
from hub.signals.routes import router as signals_router
from hub.workorders.policy import SlaPolicy
from hub.workorders.routes import router as workorders_router

API_PREFIX = "/api/v1"

DOMAIN_ROUTERS: list[APIRouter] = [
    registry_router,
    workorders_router,
    signals_router,
    alarms_router,
    complaints_router,
]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the API on `engine` (default: the configured database)."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.effective_database_url)
    app = FastAPI(
        title="facility-hub",
        version="0.1.0",
        description="Facility signals, alarms, work orders and complaints for property services.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.clock = clock or SystemClock()
    app.state.policy = SlaPolicy.from_settings(settings)
    app.state.authenticate = principal_for_token
    install_error_handlers(app)

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
        return {"status": "ready", "database": engine.dialect.name}

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/me", tags=["auth"])
    def me(principal: PrincipalDep) -> dict[str, Any]:
        """Who the token belongs to: name, role and sites."""
        return {
            "id": principal.user_id,
            "name": principal.name,
            "role": principal.role,
            "sites": sorted(principal.site_ids),
        }

    for router in DOMAIN_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    return app
