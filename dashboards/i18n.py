"""The pages' language: Babel catalogs for Chinese and English, chosen per request.

The templates are written with English message ids (`_("Devices")`); `locale/zh` holds
their Chinese text and `locale/en` the few where the English shown differs. A language's
catalog is every `.po` file of its `LC_MESSAGES`, read in name order (`messages.po` holds
the pages' common words, the others one subject each), a later file's entry winning. A request's
language is `?lang=zh|en` (remembered in a cookie), else the browser's Accept-Language,
else Chinese — the language of the people at a 物业 desk.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "fh_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(lang: str) -> Translations:
    """The catalog of `lang`, compiled once from its .po files."""
    catalog: Catalog | None = None
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            part = read_po(fh, locale=lang)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id:
                catalog[message.id] = message
    if catalog is None:
        raise FileNotFoundError(f"no catalog for {lang!r} under {LOCALE_DIR}")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def from_accept_language(header: str) -> str | None:
    """The first of our languages the browser asks for, by its q values."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0:
            wanted.append((-q, index, primary))
    return min(wanted)[2] if wanted else None


def language(request: Request) -> str:
    """The language of this request's page."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return str(asked)
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGS:
        return str(remembered)
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT
