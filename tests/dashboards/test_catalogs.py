"""Every text a template writes has its Chinese in the catalog (English is the message id)."""

from __future__ import annotations

import re

from dashboards.i18n import LOCALE_DIR, from_accept_language, translations
from dashboards.render import TEMPLATES

LITERAL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def _used() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        found |= {m.group(2) for m in LITERAL.finditer(path.read_text(encoding="utf-8"))}
    return found


def test_every_template_text_is_in_the_chinese_catalog() -> None:
    zh = translations("zh")
    missing = sorted(t for t in _used() if zh.gettext(t) == t)
    assert not missing


def test_both_catalogs_are_there() -> None:
    assert {p.name for p in LOCALE_DIR.iterdir()} >= {"zh", "en"}
    assert translations("en").gettext("move:on_site") == "Arrived"
    assert translations("zh").gettext("move:on_site") == "已到场"


def test_the_browsers_language_by_its_q_values() -> None:
    assert from_accept_language("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert from_accept_language("fr;q=1, en;q=0.2, zh;q=0.5") == "zh"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("en;q=0, zh;q=bogus") is None


def test_every_code_a_page_shows_has_its_words_in_both_languages() -> None:
    from dashboards.labels import CODES

    for lang in ("zh", "en"):
        tr = translations(lang)
        missing = [f"{k}:{c}" for k, codes in CODES.items() for c in codes]
        missing = [key for key in missing if tr.gettext(key) == key]
        assert not missing, (lang, missing)
