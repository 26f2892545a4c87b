"""Every error as JSON `{"error": {"code", "message", "details"?}}`."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from hub.errors import HubError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The contract's error shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so no error leaves the API in another shape."""

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=exc.headers() or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return JSONResponse(
            error_body("validation_error", message or "invalid request", problems),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # A body that is not JSON (or not UTF-8) is bad input like any other: 422.
            return JSONResponse(
                error_body(
                    "validation_error",
                    "body: not a JSON document in UTF-8",
                    [{"field": "body", "message": "not a JSON document in UTF-8"}],
                ),
                status_code=422,
            )
        if exc.status_code == 405:
            # Starlette names only the first route of the path; the path may have several.
            headers["Allow"] = ", ".join(allowed_methods(app, dict(request.scope)))
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, _exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed taken past the pool's timeout: busy, not broken.
        retry = request.app.state.settings.web_retry_after_seconds
        return JSONResponse(
            error_body("busy", "the hub is busy: try again shortly"),
            status_code=503,
            headers={"Retry-After": str(retry)},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal", "internal error; it has been logged"), status_code=500
        )


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a sentence, and for bad input the fields at fault."""

    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    """Every error response."""

    error: ErrorDetail


_MEANINGS = {
    401: "No valid API token (Authorization: Bearer <token>).",
    403: "The caller's role may not do this.",
    404: "No such object in the caller's sites.",
    409: "The request clashes with the object's state (e.g. a move the workflow forbids).",
    413: "The body is larger than the route takes (refused while it is read).",
    422: "Invalid input; `details` names each field.",
    429: "Too many failed credential checks from this address: retry after `Retry-After`.",
    503: "The hub is at capacity: try again after `Retry-After` seconds.",
}


def query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route takes, those of its dependencies and query models too."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                names |= {f.alias or name for name, f in model.model_fields.items()}
            else:
                names.add(field.alias)
        stack.extend(current.dependencies)
    return frozenset(names)


def declare_errors(router: APIRouter) -> None:
    """Declare in the OpenAPI document each error status a route of `router` can return.

    Every route can refuse the token (401), the role (403) and the input (422), and an
    address after too many failed credential checks (429); a route
    naming an object in its path or a site can answer 404; a route that changes state can
    answer 409.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        statuses = {401, 403, 422, 429, 503}
        names = query_names(route.dependant)
        if route.param_convertors or "site" in names or route.body_field is not None:
            statuses.add(404)
        if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}:
            statuses.add(409)
        if route.body_field is not None:
            statuses.add(413)
        for status in sorted(statuses):
            route.responses.setdefault(
                status, {"model": ErrorOut, "description": _MEANINGS[status]}
            )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


_Table = list[tuple[re.Pattern[str], int, frozenset[str]]]
_TABLES: dict[int, _Table] = {}


def _method_table(app: FastAPI) -> _Table:
    """Every route's path pattern, its number of parameters, its methods (included routers'
    routes under their prefix)."""
    table = _TABLES.get(id(app))
    if table is None:
        table = []
        for context in iter_route_contexts(app.router.routes):
            if context.path_format and context.methods:
                pattern, _, convertors = compile_path(context.path_format)
                table.append((pattern, len(convertors), frozenset(context.methods)))
        _TABLES[id(app)] = table
    return table


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """Every method a route of the app takes on the request's path, and no other.

    A path spelled out names its routes: `/complaints/phrase-check` is the phrase check's
    (POST), not a complaint's (`/complaints/{complaint_id}`, GET, whose id it is not).
    """
    path = str(scope.get("path", ""))
    matched = [(params, methods) for pattern, params, methods in _method_table(app)
               if pattern.match(path)]  # fmt: skip
    fewest = min((params for params, _ in matched), default=0)
    found = set().union(*(methods for params, methods in matched if params == fewest))
    return [method for method in _METHODS if method in found]
