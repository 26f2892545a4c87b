"""Reading a page as its person would: every word in the page's language, no raw codes.

`read(page, lang)` takes a Playwright page and returns what a reader would trip over, each
a `Finding` (the rule, the words, the line they stand in). `findings(text, lang)` applies
the same rules to a text. The rules:

- `code`: a `snake_case` word, or a Python `True` / `False` / `None`;
- `iso-time`: a timestamp with its `T` (`2026-12-08T05:35`), or a time with its offset
  (`14:05+08:00`, `14:05 +08`);
- `clock`: minutes:seconds beyond an hour (`474:08`);
- `language`: Han characters on an English page, English words on a Chinese one.

What people typed (a complaint's words, a note, a name) is theirs, not the hub's: the
templates mark it `data-typed`, identifiers printed on the things themselves (a device id,
a login) `translate="no"`, and the language switch carries its own `lang`; text inside such
an element is not read. The allow-list below is for short words both languages write alike
(units, file formats) and is not a place for the hub's own text.

`PAGES` lists every page of every role; a page added to the hub is one more line there.
A path may name the demo's objects in braces (`{leak}`), filled from `DemoIds`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PAGES: dict[str, tuple[str, ...]] = {
    "anonymous": ("/",),
    "engineer": (
        "/engineer",
        "/engineer?building=clubhouse",
        "/engineer/devices/{leak}",
        "/engineer/devices/{paper}",
        "/engineer/devices/{gate}",
        "/engineer/devices/{light}",
        "/engineer/devices/nope",
    ),
    "cleaner": (
        "/patrol",
        "/patrol/checkpoints/{checkpoint}",
        "/engineer",
        "/engineer?building=clubhouse",
        "/forecasts",
    ),
    "security": ("/patrol", "/engineer", "/engineer?building=north-gate"),
    "engineering_head": ("/dispatch", "/engineer", "/engineer?building=1"),
    "front_desk": (
        "/desk",
        "/desk/lookup?location={leak_place}",
        "/desk?nope=1",
        "/desk/complaints",
        "/desk/complaints?q=4-2-301",
        "/desk/complaints/{complaint}",
    ),
    "manager": (
        "/manager",
        "/manager/disputes/{complaint}",
        "/manager/disputes/{paper_complaint}",
        "/manager/disputes/{paper_complaint}?show=all",
        "/manager?period=last-week",
        "/parts",
        "/forecasts",
        "/dispatch",
        "/engineer",
        "/desk",
        "/engineer?building=99",
    ),
    "admin": ("/",),
}
"""Role → the paths its person opens (placeholders from `DemoIds`)."""

SKIP = "[data-typed], [translate=no], script, style, template, noscript"
"""Elements whose text is not the hub's words (see the module's docstring)."""

ALLOWED_LATIN = frozenset(
    {
        "API", "CSV", "XLSX", "JSON", "ZIP", "PDF", "SLA", "ID", "QR",
        "h", "min", "s", "d", "kPa", "W", "lx", "L", "F", "B", "x",
    }
)  # fmt: skip
"""Latin words a Chinese page writes as they are: formats, units, abbreviations."""

SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")
PYTHON = re.compile(r"\b(True|False|None)\b")
ISO_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s?[+-]\d{2}(?::?\d{2})?\b")
CLOCK = re.compile(r"(?<![\d:])\d{3,}:\d{2}\b")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9#/_.-])[A-Za-z]{2,}(?![A-Za-z0-9_])")

WORDS_JS = """(skip) => {
  const out = [];
  const pageLang = (document.documentElement.lang || "").slice(0, 2);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const keep = (el) => {
    if (!el || el.closest(skip)) return false;
    const lang = el.closest("[lang]");
    const other = lang && lang !== document.documentElement;
    if (other && lang.lang.slice(0, 2) !== pageLang) return false;
    if (el.closest("option")) return true;
    return el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : true;
  };
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue.replace(/\\s+/g, " ").trim();
    if (text && keep(node.parentElement)) out.push(text);
  }
  document.querySelectorAll("[placeholder], [title], [aria-label], [data-on], [data-off]")
    .forEach((el) => {
      if (el.closest(skip)) return;
      ["placeholder", "title", "aria-label"].forEach((a) => {
        const v = el.getAttribute(a);
        if (v && !(a === "title" && el.classList.contains("digest"))) out.push(v);
      });
    });
  out.push(document.title);
  return out;
}"""
"""The text nodes a person sees (and the placeholders, tooltips and labels read out)."""


@dataclass(frozen=True)
class Finding:
    """One thing a reader trips over: the rule it breaks, the words, the line they are in."""

    rule: str
    words: str
    line: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.words!r} in {self.line[:120]!r}"


def findings(lines: Iterable[str], lang: str, allowed: Iterable[str] = ()) -> list[Finding]:
    """What breaks the rules in these lines of a page in `lang` (zh or en)."""
    allow = set(allowed)
    found: list[Finding] = []
    for line in lines:
        if line in allow:
            continue
        for rule, pattern in (
            ("code", SNAKE),
            ("code", PYTHON),
            ("iso-time", ISO_T),
            ("iso-time", OFFSET),
            ("clock", CLOCK),
        ):
            found += [Finding(rule, m.group(0), line) for m in pattern.finditer(line)]
        if lang == "en":
            found += [Finding("language", m.group(0), line) for m in HAN.finditer(line)]
        else:
            found += [
                Finding("language", m.group(0), line)
                for m in LATIN_WORD.finditer(line)
                if m.group(0) not in ALLOWED_LATIN and m.group(0) not in allow
            ]
    return [f for f in found if f.words not in allow]


def read(page: Any, lang: str, allowed: Iterable[str] = ()) -> list[Finding]:
    """What a person reading `page` (a Playwright page, in `lang`) would trip over."""
    lines = page.evaluate(WORDS_JS, SKIP)
    return findings(lines, lang, allowed)


@dataclass(frozen=True)
class DemoIds:
    """The demo's objects a path names: `{leak}` → the id of the leak sensor in alarm."""

    values: Mapping[str, object]

    def fill(self, path: str) -> str:
        """The path with its placeholders filled."""
        return path.format(**self.values)


def report(by_page: Mapping[str, list[Finding]]) -> str:
    """The findings page by page, for an assertion's message."""
    out = []
    for page, found in by_page.items():
        if not found:
            continue
        out.append(f"{page}: {len(found)}")
        seen: set[tuple[str, str]] = set()
        for f in found:
            if (f.rule, f.words) in seen:
                continue
            seen.add((f.rule, f.words))
            out.append(f"    {f}")
    return "\n".join(out)
