"""Sign-in: an API token once, then a session cookie holding a random session id (kept
server-side, hashed; never the token); CSRF on every form. Sign-out ends the session.

The cookie is HttpOnly and SameSite=Strict, and Secure when the request came over HTTPS
(directly, or through a proxy saying `X-Forwarded-Proto: https`). A script may instead
send `Authorization: Bearer` with each request, as to the API; such a request carries no
ambient credential, so it needs no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from dashboards.api import Api, ApiError
from dashboards.render import PageError, check_query, render
from hub.api import cookies
from hub.api.deps import request_session
from hub.api.throttle import Throttle
from hub.auth import service
from hub.errors import Unauthorized

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

PRE_CSRF = "fh_signin_csrf"
HOMES = {
    "engineer": "/engineer",
    "cleaner": "/patrol",
    "security": "/patrol",
    "front_desk": "/desk",
    "manager": "/manager",
}
"""The home page of each role: cleaners and guards start on their rounds."""
FIELD_HOME = "/engineer"
TOO_MANY = "too many failed sign-ins from this address: wait a minute and try again"


@dataclass
class WebUser:
    """The signed-in person, as the API knows them."""

    api: Api
    name: str
    role: str
    sites: list[str]
    csrf: str | None
    """The session's CSRF token; None for a bearer-token request (no cookie to abuse)."""
    site_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Site id → its `name` and `name_en`, for a person of several sites (a site chooser)."""
    head: bool = False
    """Heads the department of their role: dispatches its orders."""

    @property
    def dispatches(self) -> bool:
        """Whether `/dispatch` is for this person (managers, admins, heads)."""
        return self.head or self.role in ("manager", "admin")

    @property
    def home(self) -> str:
        """Where this person starts."""
        return HOMES.get(self.role, FIELD_HOME if self.role != "admin" else "/manager")


class SignInNeeded(Exception):
    """No valid session or token: the page sends the person to sign in."""


def _pepper(request: Request) -> str:
    return str(request.app.state.settings.token_pepper.get_secret_value())


def _now(request: Request) -> Any:
    return request.app.state.clock.now()


async def current_user(request: Request) -> WebUser:
    """The request's user, from its bearer token or its session cookie."""
    header = request.headers.get("authorization", "")
    csrf: str | None = None
    if header.lower().startswith("bearer "):
        headers = {"Authorization": f"Bearer {header[7:].strip()}"}
    else:
        session_id = cookies.from_request(request)
        if session_id is None:
            raise SignInNeeded
        csrf = cookies.csrf_token(session_id, pepper=_pepper(request))
        headers = {"Cookie": f"{cookies.COOKIE}={session_id}", "X-CSRF-Token": csrf}
    api = Api(request, headers)
    try:
        me = await api.get("/me")
    except ApiError as exc:
        if exc.status == 429:
            raise PageError(429, TOO_MANY) from exc
        raise SignInNeeded from exc
    user = WebUser(
        api, me["name"], me["role"], list(me["sites"]), csrf, head=bool(me.get("department_head"))
    )
    if len(user.sites) > 1:  # the pages offer a choice of site, by name
        user.site_names = {s["id"]: s for s in await api.get("/sites")}
    return user


def _sessions(request: Request, work: Callable[..., T], **kwargs: Any) -> T:
    """Run a session service in a database session of the app's, committed."""
    with request_session(request) as session:
        result = work(session=session, pepper=_pepper(request), now=_now(request), **kwargs)
        session.commit()
        return result


async def checked_form(request: Request, user: WebUser) -> dict[str, str]:
    """The posted form, once its CSRF token is the session's (403 otherwise)."""
    try:
        form = await request.form()
    except Exception as exc:  # noqa: BLE001 - any unreadable body is the sender's fault
        raise PageError(422, "the form could not be read") from exc
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if user.csrf is not None:
        sent = fields.pop("csrf", None) or request.headers.get("x-csrf-token")
        if sent is None or not hmac.compare_digest(sent, user.csrf):
            raise PageError(403, "the form's security token is missing or stale: reload the page")
    for key, value in fields.items():
        if "\x00" in value or len(value) > 20_000:
            raise PageError(422, "not storable text", what=key)
    return fields


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


def _safe_next(value: str | None) -> str | None:
    """Only a path on this hub: never a redirect to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@router.get("/")
async def home(request: Request) -> Response:
    """The role's home page when signed in, else the sign-in form."""
    check_query(request, {"next", "error"})
    try:
        user = await current_user(request)
    except SignInNeeded:
        token = request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(16)
        error = request.query_params.get("error")
        response = render(
            request,
            "signin.html",
            status=401 if error else 200,
            csrf=token,
            next=_safe_next(request.query_params.get("next")) or "",
            error=error == "token",
        )
        response.set_cookie(
            PRE_CSRF, token, httponly=True, samesite="strict", secure=_secure(request)
        )
        return response
    if user.role == "admin":
        return render(request, "choose.html", user=user)
    return RedirectResponse(user.home, status_code=303)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the token once; answer with the session cookie and the role's home page."""
    check_query(request, ())
    form = await request.form()
    sent, pre = form.get("csrf"), request.cookies.get(PRE_CSRF)
    if not isinstance(sent, str) or not pre or not hmac.compare_digest(sent, pre):
        raise PageError(403, "the form's security token is missing or stale: reload the page")
    token = form.get("token")
    throttle: Throttle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.wait(address, _now(request))
    if wait is not None:
        raise PageError(429, TOO_MANY, retry_after=wait)
    if not isinstance(token, str) or not token.strip() or len(token) > 256 or "\x00" in token:
        throttle.failed(address, _now(request))
        return RedirectResponse("/?error=token", status_code=303)
    try:
        value = await run_in_threadpool(
            _sessions, request, service.start_session, token=token.strip()
        )
    except Unauthorized:
        throttle.failed(address, _now(request))
        return RedirectResponse("/?error=token", status_code=303)
    me = await Api(request, {"Authorization": f"Bearer {token.strip()}"}).get("/me")
    nxt = _safe_next(str(form.get("next") or ""))
    role = me["role"]
    target = nxt or ("/" if role == "admin" else HOMES.get(role, FIELD_HOME))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookies.COOKIE,
        value,
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PRE_CSRF)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session (the form carries its CSRF token like any other)."""
    check_query(request, ())
    try:
        user = await current_user(request)
    except SignInNeeded:
        return RedirectResponse("/", status_code=303)
    await checked_form(request, user)
    session_id = cookies.from_request(request)
    if session_id is not None:
        await run_in_threadpool(_sessions, request, service.end_session, session_id=session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(cookies.COOKIE, path="/")
    return response


def sign_in_redirect(request: Request) -> Response:
    """Where a page sends someone not signed in (htmx follows HX-Redirect)."""
    target = "/?next=" + quote(request.url.path)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
