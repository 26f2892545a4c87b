"""Templates, the language and the local time of every page."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from dashboards import i18n, labels
from hub.localtime import duration, spoken
from hub.registry.places import halves, place_text

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
    """The sentence in English: a message id of the catalogs, or the API's own words."""
    code: str = ""
    """The API's error code, when the message is the API's: a Chinese page says it by code."""
    what: str = ""
    """What the sentence is about (a parameter's name, an id), shown as it is."""


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
        raise PageError(422, "unknown query parameter", what=", ".join(unknown))
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
    """A time as the person reads it: local (FH_TIMEZONE), in the page's language
    (今天 14:05, 昨天 09:30, 12月8日 14:05; today 14:05, Dec 8 14:05)."""
    at = parse_time(value)
    if at is None:
        return "—"
    now = request.app.state.clock.now()
    zone = request.app.state.settings.zone
    return spoken(at, zone, now=now, lang=i18n.language(request), seconds=seconds)


def label(tr: Any, kind: str, code: Any) -> str:
    """A code as its words in the page's language: `kind:code` in the catalogs, else the
    code's own entry (the pages' common words), else the code with spaces for underscores
    (which the page-reading test catches: every code a page shows has an entry)."""
    if code is None or code == "":
        return "—"
    if isinstance(code, bool):
        return str(tr.gettext("yes" if code else "no"))
    text = str(code)
    keyed = f"{kind}:{text}"
    found = tr.gettext(keyed)
    if found != keyed:
        return str(found)
    plain = tr.gettext(text)
    return str(plain if plain != text else text.replace("_", " "))


def said(tr: Any, lang: str, message: str, code: str = "") -> str:
    """A refusal's sentence in the page's language: the catalog's words for it, else (the
    API's own English sentence on a Chinese page) the words for its error code."""
    found = str(tr.gettext(message))
    if found != message or lang == "en" or not code:
        return found
    return label(tr, "error", code)


_CODED = re.compile(r"[A-Za-z0-9]_[A-Za-z0-9]|\d:\d\d[+-]\d\d")
"""A snake_case code or a time with its offset: not for a person to read."""


def reason(lang: str, text: str) -> str:
    """A reason the hub composed as one string (a link's, a classification's): the part in
    the page's language — the Chinese half of a "中文 English" reason on a Chinese page
    ('' when it has none), the text without its Chinese on an English one."""
    zh, en = halves(text)
    if zh != en:
        return zh if lang == "zh" else en
    plain = not _CODED.search(text)
    if lang == "zh":
        return text if plain and not any(c.isascii() and c.isalpha() for c in text) else ""
    return text if plain and text.isascii() else ""


def feed_labels(tr: Any) -> dict[str, str]:
    """The words the live feed's script puts on codes: `work_order:open`, `alarm:tamper`, …"""
    out: dict[str, str] = {}
    for feed_kind, kind in (
        ("work_order", "status"),
        ("complaint", "complaint"),
        ("alarm", "alarm"),
        ("category", "category"),
    ):
        for code in labels.CODES[kind]:
            out[f"{feed_kind}:{code}"] = label(tr, kind, code)
    return out


def named(lang: str, obj: Any, field: str = "name") -> str:
    """An object's name in the page's language: `name_en` on an English page, `name` on a
    Chinese one, each falling back to the other (and to nothing)."""
    if not isinstance(obj, dict):
        return ""
    zh, en = obj.get(field), obj.get(f"{field}_en")
    first, second = (en, zh) if lang == "en" else (zh, en)
    return str(first or second or "")


def figure(tr: Any, value: Any) -> str:
    """A report's figure as people read it: a yes or no for a boolean, two decimals at most."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(tr.gettext("yes" if value else "no"))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return str(value)


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
        label=lambda kind, code: label(tr, kind, code),
        named=lambda obj, field="name": named(lang, obj, field),
        figure=lambda value: figure(tr, value),
        lasting=lambda seconds: duration(seconds, lang),
        feed_labels=lambda: feed_labels(tr),
        said=lambda message, code="": said(tr, lang, message, code),
        reason=lambda text: reason(lang, text),
        where=lambda path: place_text(path)[0 if lang == "zh" else 1] or "—",
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
