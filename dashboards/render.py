"""Templates, the language and the local time of every page."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from dashboards import i18n

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class PageError(Exception):
    """A page refuses the request: a 4xx with a sentence for the person."""

    status: int
    message: str
    retry_after: int | None = None
    """For a 429: the seconds to wait, sent as `Retry-After`."""


CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
"""Everything from the hub itself: the browser refuses any other source, not only our HTML.

Styles may be inline because htmx and Chart.js set element styles."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Pages carry a person's data: not cached, not framed, not sniffed."""


def check_query(request: Request, allowed: Collection[str]) -> None:
    """Refuse a query parameter the page does not take (as the API does), with 422."""
    unknown = sorted(set(request.query_params) - set(allowed) - {"lang"})
    if unknown:
        raise PageError(422, f"unknown query parameter: {', '.join(unknown)}")
    if request.query_params.get("lang", "zh") not in i18n.LANGS:
        raise PageError(422, "lang: zh or en")


def parse_time(value: Any) -> datetime | None:
    """An API time (ISO-8601) as a datetime."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value))


def local_time(request: Request, value: Any, *, seconds: bool = False) -> str:
    """A time as the person reads it: local (FH_TIMEZONE), with the offset."""
    at = parse_time(value)
    if at is None:
        return "—"
    local = at.astimezone(request.app.state.settings.zone)
    text = local.strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")
    return f"{text} {local.strftime('%z')[:3]}"


def _offset_minutes(request: Request) -> int:
    """The zone's offset from UTC now, for times the browser draws (chart, live tiles)."""
    now = request.app.state.clock.now().astimezone(request.app.state.settings.zone)
    offset = now.utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page (or an htmx fragment) in the request's language."""
    lang = i18n.language(request)
    tr = i18n.translations(lang)
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        _=tr.gettext,
        ngettext=tr.ngettext,
        local=lambda v, seconds=False: local_time(request, v, seconds=seconds),
        offset_minutes=_offset_minutes(request),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(
            i18n.COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="strict"
        )
    return response


def icon(name: str) -> Markup:
    """A status icon: a symbol that reads without colour (the word stands beside it)."""
    symbols = {
        "online": "●",
        "late": "◐",
        "offline": "○",
        "alarm": "⚠",
        "ok": "✓",
        "overdue": "⏰",
    }
    return Markup(f'<span class="icon" aria-hidden="true">{symbols.get(name, "·")}</span>')


env.globals["icon"] = icon
