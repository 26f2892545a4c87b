"""The hub's codes as words, for what the hub writes itself in a language (report files).

The words are the pages' own catalogs (`dashboards/locale/{zh,en}/LC_MESSAGES/labels.po`,
message ids `kind:code`), so a CSV column and a page say a status alike; a code without an
entry is written as it is. Plumbing: it knows no domain, only where the catalogs are.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "dashboards" / "locale"


@cache
def _catalog(lang: str) -> dict[str, str]:
    path = LOCALE / lang / "LC_MESSAGES" / "labels.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def words(kind: str, code: str, lang: str) -> str:
    """`code` of `kind` (`status`, `department`, …) in `lang`, or the code itself."""
    return _catalog(lang).get(f"{kind}:{code}", code)
