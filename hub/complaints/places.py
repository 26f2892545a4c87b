"""Areas named in a complaint's text: 「会所二楼女卫生间」, "clubhouse 2F women's restroom".

`location_from_text` reads buildings, floors and units by their numbers; areas have names.
The text gives words (会所 → clubhouse, 女卫生间 → women + restroom, 二楼 → floor 2) and a
registry node matches when every code on its path is named: `clubhouse/2/women-restroom`
by clubhouse, 2 and women-restroom. The deepest node matched wins; two equally deep ones
(the men's and the women's restroom for 「会所二楼卫生间」) give their common parent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hub.complaints.text import fold

# Folded words → the code tokens they name (codes are split at '-' and '_').
AREA_WORDS: dict[str, tuple[str, ...]] = {
    "会所": ("clubhouse",),
    "会馆": ("clubhouse",),
    "clubhouse": ("clubhouse",),
    "club house": ("clubhouse",),
    "车库": ("garage",),
    "地库": ("garage",),
    "地下车库": ("garage",),
    "停车场": ("garage", "parking"),
    "garage": ("garage",),
    "car park": ("garage", "parking"),
    "parking": ("parking",),
    "北门": ("north", "gate"),
    "南门": ("south", "gate"),
    "东门": ("east", "gate"),
    "西门": ("west", "gate"),
    "north gate": ("north", "gate"),
    "north entrance": ("north", "gate"),
    "south entrance": ("south", "gate"),
    "south gate": ("south", "gate"),
    "east gate": ("east", "gate"),
    "west gate": ("west", "gate"),
    "入口": ("entrance",),
    "出口": ("exit",),
    "entrance": ("entrance",),
    "exit": ("exit",),
    "女卫生间": ("women", "restroom"),
    "女卫": ("women", "restroom"),
    "女厕": ("women", "restroom"),
    "女洗手间": ("women", "restroom"),
    "womens restroom": ("women", "restroom"),
    "womens toilet": ("women", "restroom"),
    "ladies": ("women", "restroom"),
    "男卫生间": ("men", "restroom"),
    "男卫": ("men", "restroom"),
    "男厕": ("men", "restroom"),
    "男洗手间": ("men", "restroom"),
    "mens restroom": ("men", "restroom"),
    "mens toilet": ("men", "restroom"),
    "gents": ("men", "restroom"),
    "卫生间": ("restroom",),
    "洗手间": ("restroom",),
    "厕所": ("restroom",),
    "restroom": ("restroom",),
    "toilet": ("restroom",),
    "washroom": ("restroom",),
    "管井": ("pipe", "well"),
    "水井": ("pipe", "well"),
    "pipe well": ("pipe", "well"),
    "pipe shaft": ("pipe", "well"),
    "大堂": ("lobby",),
    "lobby": ("lobby",),
}

_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_FLOOR_ZH = re.compile(
    r"(?<![0-9号栋幢座])([0-9]{1,2}|[一二两三四五六七八九])\s*(?:楼|层)(?![0-9])"
)
_FLOOR_EN = re.compile(
    r"(?<![a-z0-9])(?:([0-9]{1,2})\s*(?:st|nd|rd|th)?\s*(?:floor|f)|(?:floor|level)\s*([0-9]{1,2}))"
    r"(?![a-z0-9])"
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_FLOOR_WORD = re.compile(r"(?<![a-z])(first|second|third|fourth|fifth)\s+floor(?![a-z])")


@dataclass(frozen=True)
class AreaHint:
    """What the text names of an area: code tokens, a floor number, and the words."""

    tokens: frozenset[str]
    floor: int | None
    words: tuple[str, ...]


def _english(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text) is not None


def _floor(folded: str) -> tuple[int | None, str | None]:
    if m := _FLOOR_ZH.search(folded):
        token = m.group(1)
        return (int(token) if token.isdigit() else _CN[token]), m.group(0)
    if m := _FLOOR_EN.search(folded):
        return int(m.group(1) or m.group(2)), m.group(0)
    if m := _FLOOR_WORD.search(folded):
        return _ORDINALS[m.group(1)], m.group(0)
    return None, None


def area_hint(text: str) -> AreaHint | None:
    """The area words of `text`, or None when it names no area."""
    folded = fold(text, keep="words").text
    tokens: set[str] = set()
    words: list[str] = []
    for phrase, named in AREA_WORDS.items():
        found = _english(folded, phrase) if phrase.isascii() else phrase in folded
        if found:
            tokens.update(named)
            words.append(phrase)
    if not tokens:
        return None
    words = [w for w in words if not any(w != o and w in o for o in words)]
    floor, floor_words = _floor(folded)
    if floor_words:
        words.append(floor_words)
    return AreaHint(frozenset(tokens), floor or None, tuple(words))


def _named(code: str, depth: int, hint: AreaHint) -> bool:
    """Whether the hint names this code of a path (at `depth`, 0 the root)."""
    if code.isdigit():
        return depth > 0 and hint.floor == int(code)
    parts = {p for p in re.split(r"[-_]", code.lower()) if p}
    return parts <= hint.tokens


def best_area(hint: AreaHint, paths: Iterable[str], under: str | None = None) -> str | None:
    """The deepest path every code of which the hint names, or the common parent of ties.

    `paths` are the site's buildings, floors and areas; `under` restricts the match to
    below a place already read from the text (3/12 → 3/12/pipe-well).
    """
    base = tuple(under.split("/")) if under else ()
    best: list[tuple[str, ...]] = []
    for path in paths:
        codes = tuple(path.split("/"))
        if base and (codes[: len(base)] != base or len(codes) == len(base)):
            continue
        if not base and codes[0].isdigit():
            continue  # numbered buildings are read by their numbers, not as areas
        if not all(_named(c, d, hint) for d, c in enumerate(codes) if d >= len(base)):
            continue
        if not best or len(codes) > len(best[0]):
            best = [codes]
        elif len(codes) == len(best[0]):
            best.append(codes)
    if not best:
        return None
    common = best[0]
    for other in best[1:]:
        n = 0
        while n < len(common) and common[n] == other[n]:
            n += 1
        common = common[:n]
    if len(common) <= len(base):
        return None
    return "/".join(common)


# Units as owners say them in English: "301 in building 4", "unit 1201 of building 3",
# "flat 802, block 5"; and "building 4 unit 301", "block 5, flat 802".
_EN_BLOCK = r"(?:building|bldg|block|blk|tower)\.?\s*(?:no\.?\s*|#\s*)?([0-9]{1,2})(?![0-9])"
_EN_ROOM = r"(?:unit|room|rm|flat|apt|apartment|#)\.?\s*"
_ROOM_IN_BLOCK = re.compile(
    r"(?<![0-9a-z])(?:(?:" + _EN_ROOM + r")([0-9]{3,4})\s*,?\s*(?:in\s+|of\s+|at\s+)?"
    r"|([0-9]{3,4})\s*,?\s*(?:in|of|at)\s+)(?:the\s+)?" + _EN_BLOCK
)
_BLOCK_ROOM = re.compile(
    r"(?<![a-z])"
    + _EN_BLOCK
    + r"\s*,?\s*(?:floor\s*[0-9]{1,2}\s*,?\s*)?"
    + _EN_ROOM
    + r"([0-9]{3,4})(?![0-9])"
)
_SITE_WIDE = (
    "全小区",
    "整个小区",
    "全部楼",
    "所有楼",
    "全园区",
    "whole estate",
    "entire estate",
    "whole site",
    "whole community",
    "all buildings",
    "every building",
)


def unit_words(text: str) -> tuple[str, str] | None:
    """A unit in the English ways owners name it: (building/floor/unit, the words)."""
    folded = fold(text, keep="words").text
    if m := _ROOM_IN_BLOCK.search(folded):
        room, building = m.group(1) or m.group(2), int(m.group(3))
    elif m := _BLOCK_ROOM.search(folded):
        building, room = int(m.group(1)), m.group(2)
    else:
        return None
    floor = int(room[:-2])
    if not building or not floor:
        return None
    return f"{building}/{floor}/{room}", m.group(0).strip()


def site_wide(text: str) -> bool:
    """Whether the text is about the whole site (全小区停水, "all buildings")."""
    folded = fold(text, keep="words").text
    return any(word in folded for word in _SITE_WIDE)


@dataclass(frozen=True)
class PlaceRead:
    """A place read from an owner's words, and how much of it the registry knows.

    `wanted` is the path the words name (4-2-301 → 4/3/301); `path` the deepest node of it
    the registry has (None: not even the building); `home` when the words name a unit.
    """

    wanted: str
    words: str
    path: str | None
    home: bool

    @property
    def known(self) -> bool:
        """Whether the registry has the very place named."""
        return self.path == self.wanted

    @property
    def why(self) -> str:
        """One line for the desk: what was read, and what the registry has of it."""
        if self.known:
            return f"{self.wanted} read from “{self.words}”"
        if self.path is None:
            return f"{self.wanted} read from “{self.words}” is not in the registry"
        return (
            f"{self.wanted} read from “{self.words}” is not in the registry: "
            f"nearest known place {self.path}"
        )


def _deepest(wanted: str, exists: Callable[[str], bool]) -> str | None:
    parts = wanted.split("/")
    for depth in range(len(parts), 0, -1):
        if exists("/".join(parts[:depth])):
            return "/".join(parts[:depth])
    return None


def read_place(
    text: str,
    *,
    exists: Callable[[str], bool],
    areas: Callable[[str | None], Iterable[str]],
    numbered: Callable[[str], tuple[str, str] | None],
) -> PlaceRead | None:
    """The place an owner's words name, read the same way at intake and while typing.

    Numbers first (`numbered`: 3号楼12层, 4-2-301, 4栋2单元301; then the English unit
    forms), refined by area words below the place read (3号楼12层管井), or area words
    alone (车库入口, 会所二楼男厕) matched against the site's areas (`areas(under)`).
    `exists(path)` asks the registry.
    """
    found = numbered(text) or unit_words(text)
    base: PlaceRead | None = None
    if found is not None:
        wanted, words = found
        home = len(wanted.split("/")) >= 3 and wanted.split("/")[2].isdigit()
        base = PlaceRead(wanted, words, _deepest(wanted, exists), home)
        if base.path is None or base.home:
            return base
    hint = area_hint(text)
    if hint is None:
        return base
    under = base.path if base is not None else None
    area = best_area(hint, areas(under), under=under)
    if area is None:
        return base
    return PlaceRead(area, " ".join(hint.words), area, False)
