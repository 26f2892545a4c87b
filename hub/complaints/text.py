"""Text normalisation for complaint classification and reply checking.

Owners and staff write simplified and traditional Chinese, full-width and half-width
characters, English in any case. Everything is folded to one form before matching:
NFKC (full-width letters and digits become ASCII), traditional → simplified (OpenCC
`t2s`), lower case. `Folded` keeps, for every folded character, the index of the
original character it came from, so a match can be shown in the words actually typed.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

import opencc

_local = threading.local()


def _converter() -> opencc.OpenCC:
    """One OpenCC converter per thread (the API serves requests from a thread pool)."""
    converter: opencc.OpenCC | None = getattr(_local, "converter", None)
    if converter is None:
        converter = opencc.OpenCC("t2s")
        _local.converter = converter
    return converter


def to_simplified(text: str) -> str:
    """Traditional Chinese characters and phrases converted to simplified."""
    return str(_converter().convert(text))


@dataclass(frozen=True)
class Folded:
    """Normalised text and, per character, the index of its source in the original."""

    text: str
    origin: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that folded characters `start:end` came from."""
        if not self.origin or start >= end:
            return (0, 0)
        return (self.origin[start], self.origin[end - 1] + 1)


_APOSTROPHES = frozenset("'\u2019\u2018`")


def fold(text: str, *, keep: str = "all") -> Folded:
    """Fold `text`.

    keep="all" keeps every character; "content" drops whitespace, punctuation and symbols
    (for Chinese, where a comma or space inside a phrase changes nothing); "words" turns
    each run of them into one space and drops apostrophes (for English: "don't" → "dont").
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char):
            chars.append(piece)
            origin.append(index)
    joined = "".join(chars)
    simplified = to_simplified(joined)
    if len(simplified) != len(joined):  # a phrase conversion changed the length: go per char
        simplified = "".join(s if len(s := to_simplified(c)) == 1 else c for c in joined)
    lowered = simplified.lower()
    if len(lowered) != len(simplified):  # e.g. "İ" lowers to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in simplified)
    if keep == "all":
        return Folded(lowered, tuple(origin))
    kept: list[tuple[str, int]] = []
    for char, index in zip(lowered, origin, strict=True):
        if is_content(char):
            kept.append((char, index))
        elif keep == "words" and char not in _APOSTROPHES and kept and kept[-1][0] != " ":
            kept.append((" ", index))
    if kept and kept[-1][0] == " ":
        kept.pop()
    return Folded("".join(c for c, _ in kept), tuple(o for _, o in kept))


def is_content(char: str) -> bool:
    """Letters, digits and CJK characters; not whitespace, punctuation or symbols."""
    return unicodedata.category(char)[0] in ("L", "N")
